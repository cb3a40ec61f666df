"""The key that signs a transaction's tenant context, so that SQL alone cannot switch tenants.

Row-level security shows a transaction the rows of the tenant (and project) of ``orchestra.context``, but
only after PostgreSQL has checked that value's HMAC (migration 0012). The value is made by
``orchestra_enter(tenant, project, proof)``, a function of ``orchestra_system`` that accepts ``proof`` only
when it is ``HMAC(key, "enter/<tenant>/<project>")``: the application computes it here, with a key derived
from the secret key (``ORCHESTRA_SECRET_KEY`` or ``<data-dir>/secret.key``) that every service shares. The
database keeps the same key where only ``orchestra_system`` reads it (``tenant_context_key``, written by
the owner when it migrates), so a statement run as ``orchestra_app`` — an SQL injection — can neither read
the key nor make a proof for another tenant. docs/security.md has the threat model.

The HMAC is computed in SQL with the built-in ``sha256`` (no extension): the database stores the key's
inner and outer pads, exactly as RFC 2104 defines them, so both sides compute the same HMAC-SHA256.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field

_DERIVATION = b"orchestra tenant context v1"
_BLOCK = 64  # SHA-256's block size: the length of the HMAC pads


@dataclass(frozen=True)
class ContextKey:
    """The tenant-context key of one process (derived from its secret key)."""

    key: bytes = field(repr=False)

    @classmethod
    def from_secret_key(cls, secret_key: bytes) -> ContextKey:
        """A key of its own (not the secret key itself, which encrypts environment secrets)."""
        return cls(hmac.new(secret_key, _DERIVATION, hashlib.sha256).digest())

    def proof(self, tenant_id: uuid.UUID, project_id: uuid.UUID | None = None) -> bytes:
        """What ``orchestra_enter`` accepts for this tenant (and project scope)."""
        claim = f"enter/{tenant_id}/{project_id or ''}".encode()
        return hmac.new(self.key, claim, hashlib.sha256).digest()

    @property
    def pads(self) -> tuple[bytes, bytes]:
        """The inner and outer HMAC pads (RFC 2104) that the database stores in place of the key."""
        padded = self.key.ljust(_BLOCK, b"\0")
        return bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)

    @property
    def fingerprint(self) -> str:
        """Names the key in messages (which key the database holds), revealing nothing of it."""
        return hashlib.sha256(b"fingerprint/" + self.key).hexdigest()[:12]
