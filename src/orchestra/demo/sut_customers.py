"""Customers and orders of the demo shop (bearer auth): ``/customers*`` and ``/orders*``.

An order refers to a customer and an item that must exist, and a customer (or item) with orders cannot be
deleted: the SUT has the dependencies and the cleanup order a test-data planner has to get right.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from orchestra.demo.sut_customers_store import Customer, Order, StoreFull
from orchestra.demo.sut_http import (
    BearerToken,
    IdempotencyKey,
    ProblemError,
    State,
    created_response,
    replay_response,
)
from orchestra.demo.sut_models import CustomerCreate, CustomerOut, OrderCreate, OrderOut
from orchestra.demo.sut_values import JsonObject

router = APIRouter()

CUSTOMERS_ROUTE = "POST /customers"
ORDERS_ROUTE = "POST /orders"
_DESCRIPTIONS = {404: "Not found", 409: "Conflict", 422: "Invalid or dangling reference", 507: "Shop full"}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem+json answers a route gives besides FastAPI's own 422."""
    return {
        status: {"description": f"{_DESCRIPTIONS[status]} (application/problem+json)"} for status in statuses
    }


def _full() -> ProblemError:
    return ProblemError(507, "Insufficient Storage", "the demo shop holds as many records as it can")


def _customer_or_404(state: State, customer_id: str) -> Customer:
    customer = state.customers.customers.get(customer_id)
    if customer is None:
        raise ProblemError(404, "Not Found", f"customer {customer_id[:100]!r} does not exist")
    return customer


def _order_or_404(state: State, order_id: str) -> Order:
    order = state.customers.orders.get(order_id)
    if order is None:
        raise ProblemError(404, "Not Found", f"order {order_id[:100]!r} does not exist")
    return order


@router.post(
    "/customers",
    status_code=201,
    response_model=CustomerOut,
    operation_id="createCustomer",
    responses=_problems(507),
)
async def create_customer(
    body: CustomerCreate, state: State, _token: BearerToken, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    if idempotency_key is not None and (stored := state.stored_response(CUSTOMERS_ROUTE, idempotency_key)):
        return replay_response(stored)
    try:
        customer = state.customers.add_customer(body.name, body.email, body.tier, body.birthDate)
    except StoreFull:
        raise _full() from None
    location = f"/customers/{customer.id}"
    return created_response(state, CUSTOMERS_ROUTE, idempotency_key, 201, customer.to_json(), location)


@router.get("/customers", operation_id="listCustomers")
async def list_customers(
    state: State,
    _token: BearerToken,
    response: Response,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 10,
) -> JsonObject:
    customers, total = state.customers.page(page, per_page)
    next_link = (
        f"/customers?{urlencode({'page': page + 1, 'per_page': per_page})}"
        if page * per_page < total
        else None
    )
    response.headers["X-Total-Count"] = str(total)
    return {
        "items": [customer.to_json() for customer in customers],
        "page": page,
        "per_page": per_page,
        "total": total,
        "next": next_link,
    }


@router.get(
    "/customers/{customerId}",
    response_model=CustomerOut,
    operation_id="getCustomer",
    responses=_problems(404),
)
async def get_customer(customerId: str, state: State, _token: BearerToken) -> JsonObject:
    return _customer_or_404(state, customerId).to_json()


@router.delete(
    "/customers/{customerId}", status_code=204, operation_id="deleteCustomer", responses=_problems(404, 409)
)
async def delete_customer(customerId: str, state: State, _token: BearerToken) -> Response:
    _customer_or_404(state, customerId)
    if orders := state.customers.orders_of_customer(customerId):
        raise ProblemError(409, "Conflict", f"the customer still has {orders} order(s); delete them first")
    del state.customers.customers[customerId]
    return Response(status_code=204)


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderOut,
    operation_id="createOrder",
    responses=_problems(422, 507),
)
async def create_order(
    body: OrderCreate, state: State, _token: BearerToken, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    if idempotency_key is not None and (stored := state.stored_response(ORDERS_ROUTE, idempotency_key)):
        return replay_response(stored)
    missing = [
        f"{kind} {ref[:100]!r} does not exist"
        for kind, ref, exists in (
            ("customerId: customer", body.customerId, body.customerId in state.customers.customers),
            ("itemId: item", body.itemId, state.items.get(body.itemId) is not None),
        )
        if not exists
    ]
    if missing:
        raise ProblemError(422, "Unprocessable Entity", "; ".join(missing))
    try:
        order = state.customers.add_order(body.customerId, body.itemId, body.quantity, body.note)
    except StoreFull:
        raise _full() from None
    return created_response(state, ORDERS_ROUTE, idempotency_key, 201, order.to_json(), f"/orders/{order.id}")


@router.get("/orders/{orderId}", response_model=OrderOut, operation_id="getOrder", responses=_problems(404))
async def get_order(orderId: str, state: State, _token: BearerToken) -> JsonObject:
    return _order_or_404(state, orderId).to_json()


@router.delete("/orders/{orderId}", status_code=204, operation_id="deleteOrder", responses=_problems(404))
async def delete_order(orderId: str, state: State, _token: BearerToken) -> Response:
    _order_or_404(state, orderId)
    del state.customers.orders[orderId]
    return Response(status_code=204)
