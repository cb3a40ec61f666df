"""Functions templates may call to make values: identifiers, times, random and realistic fake values.

``fake(kind)`` draws from Faker, but only the providers listed here: a template names a kind of value, never
a method to call. Postman's dynamic variables (``{{$randomEmail}}`` …) are imported as these calls.
"""

from __future__ import annotations

import random
import string
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

FAKE_KINDS = frozenset(
    """
    first_name last_name name prefix suffix job phone_number city street_name street_address country
    country_code latitude longitude company bs catch_phrase email free_email safe_email user_name url
    domain_name domain_word word sentence paragraph text color_name hex_color safe_color_name ipv4 ipv6
    mac_address password locale user_agent uri_path file_name file_extension mime_type currency_code
    currency_name day_of_week month_name iban bban credit_card_number isbn13 ean13 slug zipcode state
    """.split()
)
_FAKER: Any = None
_FAKER_LOCK = threading.Lock()


def now() -> str:
    """The current time, ISO 8601 in UTC with milliseconds (``2024-05-01T12:00:00.000Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def timestamp() -> int:
    """The current Unix time in whole seconds."""
    return int(time.time())


def uuid4() -> str:
    return str(uuid.uuid4())


def random_alphanumeric(length: int = 1) -> str:
    """``length`` (1 to 1000) random letters and digits."""
    count = max(1, min(1000, int(length)))
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=count))


def random_boolean() -> bool:
    return random.random() < 0.5


def fake(kind: str) -> str:
    """A realistic value of ``kind`` (one of ``FAKE_KINDS``: first_name, email, city …), as text."""
    global _FAKER
    if kind not in FAKE_KINDS:
        raise ValueError(f"fake() knows no {str(kind)[:60]!r}; known: {', '.join(sorted(FAKE_KINDS))}")
    with _FAKER_LOCK:
        if _FAKER is None:
            from faker import Faker

            _FAKER = Faker()
        return str(getattr(_FAKER, kind)())


FUNCTIONS = {
    "uuid4": uuid4,
    "now": now,
    "timestamp": timestamp,
    "random_int": random.randint,
    "random_alphanumeric": random_alphanumeric,
    "random_boolean": random_boolean,
    "fake": fake,
}
