"""Objects are addressed by id or, for convenience in URLs and scripts, by their unique name."""

from __future__ import annotations

import uuid


def as_uuid(ref: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None
