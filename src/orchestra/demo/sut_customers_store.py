"""Customers and their orders in the demo shop: the data a test has to create in the right order (a
customer and an item before an order) and clean up in reverse (orders before what they refer to)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from orchestra.demo.sut_values import JsonObject, utc_now_iso

# Beyond this many customers (or orders) creation is refused: the shop's memory stays bounded, and
# nothing is evicted behind a test's back (an evicted customer would leave orders pointing nowhere).
RECORDS_LIMIT = 100_000


class StoreFull(Exception):
    """The store holds ``RECORDS_LIMIT`` records already."""


@dataclass
class Customer:
    id: str
    name: str
    email: str
    tier: str
    birth_date: date | None
    created_at: str

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "tier": self.tier,
            "birthDate": self.birth_date.isoformat() if self.birth_date else None,
            "createdAt": self.created_at,
        }


@dataclass
class Order:
    id: str
    customer_id: str
    item_id: str
    quantity: int
    note: str | None
    created_at: str

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "customerId": self.customer_id,
            "itemId": self.item_id,
            "quantity": self.quantity,
            "note": self.note,
            "createdAt": self.created_at,
        }


@dataclass
class CustomerStore:
    customers: dict[str, Customer] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)

    def add_customer(self, name: str, email: str, tier: str, birth_date: date | None) -> Customer:
        if len(self.customers) >= RECORDS_LIMIT:
            raise StoreFull
        customer = Customer(str(uuid.uuid4()), name, email, tier, birth_date, utc_now_iso())
        self.customers[customer.id] = customer
        return customer

    def add_order(self, customer_id: str, item_id: str, quantity: int, note: str | None) -> Order:
        """The caller checks that the customer and the item exist."""
        if len(self.orders) >= RECORDS_LIMIT:
            raise StoreFull
        order = Order(str(uuid.uuid4()), customer_id, item_id, quantity, note, utc_now_iso())
        self.orders[order.id] = order
        return order

    def orders_of_customer(self, customer_id: str) -> int:
        return sum(1 for order in self.orders.values() if order.customer_id == customer_id)

    def orders_of_item(self, item_id: str) -> int:
        return sum(1 for order in self.orders.values() if order.item_id == item_id)

    def page(self, page: int, per_page: int) -> tuple[list[Customer], int]:
        """One page of customers, oldest first, and the total count."""
        start = (page - 1) * per_page
        return list(self.customers.values())[start : start + per_page], len(self.customers)
