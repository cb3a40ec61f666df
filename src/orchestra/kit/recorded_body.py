"""A recorded body as a reader wants it: the parsed JSON when it is JSON, else the text as recorded."""

from __future__ import annotations

import json
from typing import Any


def json_or_text(body: Any) -> Any:
    """``body`` (text or bytes, as a step or a call recorded it) parsed as JSON; the text when it is not
    JSON; anything else (already parsed, absent) as it is."""
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body
