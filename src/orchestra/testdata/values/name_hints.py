"""What a property's name says about its value: the Faker provider that fits it, whether it is usually
unique, whether it refers to another entity. Used by the generators and the built-in planner."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Names (snake case) or name endings → Faker provider. The longest matching ending wins.
_HINTS: dict[str, str] = {
    "email": "email",
    "mail": "email",
    "username": "user_name",
    "user_name": "user_name",
    "login": "user_name",
    "first_name": "first_name",
    "firstname": "first_name",
    "given_name": "first_name",
    "last_name": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "full_name": "name",
    "name": "name",
    "phone": "phone_number",
    "phone_number": "phone_number",
    "telephone": "phone_number",
    "mobile": "phone_number",
    "city": "city",
    "country": "country",
    "country_code": "country_code",
    "street": "street_address",
    "address": "street_address",
    "zip": "postcode",
    "zip_code": "postcode",
    "postcode": "postcode",
    "postal_code": "postcode",
    "state": "state",
    "company": "company",
    "company_name": "company",
    "organization": "company",
    "url": "url",
    "website": "url",
    "homepage": "url",
    "description": "sentence",
    "summary": "sentence",
    "comment": "sentence",
    "notes": "sentence",
    "note": "sentence",
    "title": "catch_phrase",
    "job": "job",
    "currency": "currency_code",
    "color": "color_name",
    "colour": "color_name",
    "sku": "ean8",
    "slug": "slug",
    "iban": "iban",
}
UNIQUE_HINTS = frozenset(
    {"name", "email", "username", "user_name", "login", "sku", "slug", "code", "handle", "full_name"}
)


def snake(name: str) -> str:
    """``customerId`` → ``customer_id``; ``Customer-ID`` → ``customer_id``."""
    return _CAMEL.sub("_", name).replace("-", "_").replace(" ", "_").lower()


def provider_for(name: str) -> str | None:
    key = snake(name)
    if key in _HINTS:
        return _HINTS[key]
    endings = [ending for ending in _HINTS if key.endswith("_" + ending)]
    return _HINTS[max(endings, key=len)] if endings else None


def hint_for(faker: Faker, name: str) -> str | None:
    """A realistic value for a property of this name, or None when the name says nothing."""
    provider = provider_for(name) if name else None
    if provider is None:
        return None
    value: Any = getattr(faker, provider)()
    return str(value)


def referenced_entity(name: str) -> str | None:
    """``customerId`` / ``customer_id`` / ``customer_uuid`` → ``customer``; other names → None."""
    key = snake(name)
    for ending in ("_id", "_uuid", "_key", "_ref"):
        if key.endswith(ending) and len(key) > len(ending):
            return key[: -len(ending)]
    return None


def looks_like_reference(name: str) -> bool:
    return referenced_entity(name) is not None
