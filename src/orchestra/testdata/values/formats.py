"""Strings in the formats JSON Schema and OpenAPI name (``email``, ``uuid``, ``date-time``, ...), from a
seeded Faker and random source. Hosts and addresses are made up: example.com, public IPv4 addresses."""

from __future__ import annotations

import base64
import random
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faker import Faker

# Fixed ranges (not relative to today), so that a seed gives the same dates on every day.
_FIRST_DAY, _LAST_DAY = date(1950, 1, 1), date(2020, 12, 31)
_FIRST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
_LAST_MOMENT = datetime(2030, 1, 1, tzinfo=UTC)


def formatted(fmt: str, fake: Faker, rng: random.Random, suffix: str) -> str | None:
    """A string in format ``fmt``, or None for a format not known here. ``suffix`` makes emails unique."""
    if fmt == "email" or fmt == "idn-email":
        return f"{fake.user_name()}.{suffix}@example.com"
    if fmt == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if fmt == "date":
        return str(fake.date_between(start_date=_FIRST_DAY, end_date=_LAST_DAY).isoformat())
    if fmt == "date-time":
        moment = fake.date_time_between(start_date=_FIRST_MOMENT, end_date=_LAST_MOMENT, tzinfo=UTC)
        return moment.isoformat().replace("+00:00", "Z")
    if fmt == "time":
        return f"{fake.time()}Z"
    if fmt in ("uri", "url", "iri", "uri-reference", "iri-reference"):
        return f"https://www.example.com/{fake.slug()}"
    if fmt in ("hostname", "idn-hostname"):
        return f"{fake.domain_word()}.example.com"
    if fmt == "ipv4":
        return str(fake.ipv4_public())
    if fmt == "ipv6":
        return str(fake.ipv6())
    if fmt in ("byte", "base64"):
        return base64.b64encode(rng.randbytes(12)).decode()
    if fmt == "password":
        return str(fake.password(length=16, special_chars=True))
    return None
