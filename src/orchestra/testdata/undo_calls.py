"""Undo calls as the ledger keeps them: sealed whole (their headers carry tokens), and shown only as a method
and a resource URL without query string or credentials."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from orchestra.kit.secret_box import SecretBox
from orchestra.steps.http_call import HttpCall

if TYPE_CHECKING:
    from orchestra.config import Settings


def undo_timeout_s(settings: Settings) -> float:
    """An undo is one request: it gets a step's default request timeout."""
    return settings.default_step_timeout_ms / 1000


def _aad(tenant_id: uuid.UUID, entry_id: uuid.UUID) -> str:
    # Binds the sealed call to its tenant and entry: a sealed value copied to another row does not open.
    return f"orchestra/data-ledger/{tenant_id}/{entry_id}"


def seal_undo(box: SecretBox, tenant_id: uuid.UUID, entry_id: uuid.UUID, call: HttpCall) -> str:
    return box.encrypt(json.dumps(call.to_json(), default=str), _aad(tenant_id, entry_id))


def seal_manual(box: SecretBox, tenant_id: uuid.UUID, entry_id: uuid.UUID, response: dict[str, Any]) -> str:
    """What a manual entry keeps in place of an undo call: the raw response of the call that created it
    (never read as a call: only pending and failed entries are undone)."""
    return box.encrypt(json.dumps({"manual": response}, default=str), _aad(tenant_id, entry_id))


def unseal_undo(box: SecretBox, tenant_id: uuid.UUID, entry_id: uuid.UUID, sealed: str) -> HttpCall:
    return HttpCall.from_json(json.loads(box.decrypt(sealed, _aad(tenant_id, entry_id))))


def shown_resource(url: str) -> str:
    """The URL a user may see: no query string (it may hold a key), no fragment, no user:password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(invalid URL)"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
