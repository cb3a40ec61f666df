"""The business endpoints of the demo shop SUT: ``/auth/token``, ``/oauth/token``, ``/items*`` and
``/jobs*``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from orchestra.demo.sut_http import (
    BearerToken,
    IdempotencyKey,
    ProblemError,
    State,
    created_response,
    replay_response,
)
from orchestra.demo.sut_models import ItemCreate, ItemOut, ItemPatch, JobCreate, TokenRequest
from orchestra.demo.sut_store import TOKEN_TTL_S, DuplicateNameError, Item
from orchestra.demo.sut_values import JsonObject

router = APIRouter()

ITEMS_ROUTE = "POST /items"
JOBS_ROUTE = "POST /jobs"


def _conflict(name: str) -> HTTPException:
    return HTTPException(status_code=409, detail=f"an item named {name!r} already exists")


def _item_or_404(state: State, item_id: str) -> Item:
    item = state.items.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="item not found")
    return item


@router.post("/auth/token", operation_id="issueToken")
async def issue_token(credentials: TokenRequest, state: State) -> JsonObject:
    token = state.issue_token(credentials.username, credentials.password)
    if token is None:
        raise ProblemError(401, "Unauthorized", "invalid username or password")
    return {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_TTL_S}


# Not in the demo's OpenAPI description: it is there for the auth helper's tests, and the description's one
# log-in operation (/auth/token) is the one the planner and the assistant are shown to find.
@router.post("/oauth/token", operation_id="issueClientToken", include_in_schema=False)
async def issue_client_token(request: Request, state: State) -> JSONResponse:
    """OAuth2 client credentials (RFC 6749, 4.4) as a form body: the demo credentials as client id and
    secret; the token is a bearer token like those of /auth/token."""
    form = dict(parse_qsl((await request.body()).decode("utf-8", errors="replace")))
    if form.get("grant_type") != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    token = state.issue_token(form.get("client_id", ""), form.get("client_secret", ""))
    if token is None:
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL_S})


@router.post("/items", status_code=201, operation_id="createItem", response_model=ItemOut)
async def create_item(
    body: ItemCreate, state: State, _token: BearerToken, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    if idempotency_key is not None and (stored := state.stored_response(ITEMS_ROUTE, idempotency_key)):
        return replay_response(stored)
    try:
        item = state.items.create(body.name, body.price, body.tags, body.stock)
    except DuplicateNameError:
        raise _conflict(body.name) from None
    return created_response(state, ITEMS_ROUTE, idempotency_key, 201, item.to_json(), f"/items/{item.id}")


@router.get("/items", operation_id="listItems")
async def list_items(
    state: State,
    _token: BearerToken,
    response: Response,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 10,
    tag: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
) -> JsonObject:
    items, total = state.items.page(page, per_page, tag)
    next_link = None
    if page * per_page < total:
        next_query: dict[str, str | int] = {"page": page + 1, "per_page": per_page}
        if tag is not None:
            next_query["tag"] = tag
        next_link = f"/items?{urlencode(next_query)}"
    response.headers["X-Total-Count"] = str(total)
    return {
        "items": [item.to_json() for item in items],
        "page": page,
        "per_page": per_page,
        "total": total,
        "next": next_link,
    }


@router.get("/items/{item_id}", operation_id="getItem", response_model=ItemOut)
async def get_item(item_id: str, state: State, _token: BearerToken) -> JsonObject:
    return _item_or_404(state, item_id).to_json()


@router.put("/items/{item_id}", operation_id="replaceItem", response_model=ItemOut)
async def replace_item(item_id: str, body: ItemCreate, state: State, _token: BearerToken) -> JsonObject:
    return _apply_changes(state, item_id, body.model_dump())


@router.patch("/items/{item_id}", operation_id="updateItem", response_model=ItemOut)
async def update_item(item_id: str, body: ItemPatch, state: State, _token: BearerToken) -> JsonObject:
    return _apply_changes(state, item_id, body.model_dump(exclude_unset=True))


def _apply_changes(state: State, item_id: str, changes: JsonObject) -> JsonObject:
    _item_or_404(state, item_id)
    try:
        item = state.items.update(item_id, changes)
    except DuplicateNameError:
        raise _conflict(str(changes["name"])) from None
    if item is None:  # pragma: no cover - checked just above, nothing awaits in between
        raise HTTPException(status_code=404, detail="item not found")
    return item.to_json()


@router.delete("/items/{item_id}", status_code=204, operation_id="deleteItem")
async def delete_item(item_id: str, state: State, _token: BearerToken) -> Response:
    if orders := state.customers.orders_of_item(item_id):
        raise ProblemError(409, "Conflict", f"the item is in {orders} order(s); delete them first")
    if not state.items.delete(item_id):
        raise HTTPException(status_code=404, detail="item not found")
    return Response(status_code=204)


@router.post("/jobs", status_code=202, operation_id="createJob")
async def create_job(
    body: JobCreate, state: State, _token: BearerToken, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    if idempotency_key is not None and (stored := state.stored_response(JOBS_ROUTE, idempotency_key)):
        return replay_response(stored)
    job = state.create_job(body.kind, body.duration_ms)
    accepted = {"id": job.id, "kind": job.kind, "status": "pending"}
    return created_response(state, JOBS_ROUTE, idempotency_key, 202, accepted, f"/jobs/{job.id}")


@router.get("/jobs/{job_id}", operation_id="getJob")
async def get_job(job_id: str, state: State, _token: BearerToken) -> JsonObject:
    job = state.jobs.get(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail="job not found")
    return job.to_json()


@router.delete("/jobs/{job_id}", status_code=204, operation_id="deleteJob")
async def delete_job(job_id: str, state: State, _token: BearerToken) -> Response:
    """Forget a job (one still running is dropped with it)."""
    if state.jobs.pop(job_id, None) is None:
        raise HTTPException(status_code=404, detail="job not found")
    return Response(status_code=204)
