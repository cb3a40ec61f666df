"""Objects are addressed by id or, for convenience in URLs and scripts, by their unique name."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import QueryableAttribute


def as_uuid(ref: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


def by_ref(
    id_column: QueryableAttribute[uuid.UUID] | QueryableAttribute[uuid.UUID | None],
    name_column: QueryableAttribute[str],
    ref: str,
) -> ColumnElement[bool]:
    """The condition for "this id or this name": a name that happens to look like an id stays reachable."""
    key = as_uuid(ref)
    if key is None:
        return name_column == ref
    return or_(id_column == key, name_column == ref)
