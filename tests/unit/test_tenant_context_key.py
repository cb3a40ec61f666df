"""The context key: derived from the secret key, its proofs name exactly one tenant and project, and its pads
are RFC 2104's, so that PostgreSQL's sha256 computes the same HMAC as Python (migration 0012)."""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid

from orchestra.tenant_context import ContextKey


def test_the_pads_give_the_standard_hmac() -> None:
    key = ContextKey.from_secret_key(os.urandom(32))
    inner, outer = key.pads
    assert len(inner) == len(outer) == 64
    message = b"context/some tenant/some project/1234/session"
    by_pads = hashlib.sha256(outer + hashlib.sha256(inner + message).digest()).digest()
    assert by_pads == hmac.new(key.key, message, hashlib.sha256).digest()


def test_a_proof_names_one_tenant_and_project() -> None:
    secret = os.urandom(32)
    key = ContextKey.from_secret_key(secret)
    assert key == ContextKey.from_secret_key(secret)  # every process with the secret key has the same
    assert key.key != secret  # a key of its own, not the one that encrypts secrets
    tenant, other, project = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    proofs = {
        key.proof(tenant),
        key.proof(tenant, project),
        key.proof(other),
        key.proof(other, project),
        ContextKey.from_secret_key(os.urandom(32)).proof(tenant),
    }
    assert len(proofs) == 5
    assert key.proof(tenant) == hmac.new(key.key, f"enter/{tenant}/".encode(), hashlib.sha256).digest()


def test_the_fingerprint_and_repr_reveal_nothing_of_the_key() -> None:
    key = ContextKey.from_secret_key(os.urandom(32))
    assert len(key.fingerprint) == 12
    assert key.fingerprint not in key.key.hex()
    assert key.key.hex() not in repr(key)
    assert repr(key.key) not in repr(key)
