"""Delegation tokens: only tokens minted with this secret key, unaltered and unexpired, become a viewer of
exactly the tenant and project they were minted for."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from orchestra.actor import Role
from orchestra.ai_client.delegation import (
    ALGORITHM,
    AUDIENCE,
    ISSUER,
    KEY_LABEL,
    Delegation,
    InvalidDelegation,
    looks_like_delegation,
)
from orchestra.kit.secret_box import SecretBox, new_key

TENANT = uuid.uuid4()
PROJECT = uuid.uuid4()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(new_key())


def _mint(delegation: Delegation, **kwargs: object) -> str:
    return delegation.mint(tenant_id=TENANT, project_id=PROJECT, subject="alice", **kwargs)  # type: ignore[arg-type]


def _claims_of(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_a_minted_token_yields_a_project_scoped_viewer(box: SecretBox) -> None:
    delegation = Delegation(box)
    actor = delegation.actor(_mint(delegation))
    assert actor.tenant_id == TENANT
    assert actor.project_id == PROJECT
    assert actor.role is Role.VIEWER
    assert actor.kind == "delegated"
    assert actor.name == "delegated:alice"
    assert not actor.platform_admin


def test_token_claims_name_issuer_tenant_project_and_expire_within_ten_minutes(box: SecretBox) -> None:
    now = datetime.now(UTC)
    claims = _claims_of(_mint(Delegation(box), now=now))
    assert claims["iss"] == ISSUER
    assert claims["tid"] == str(TENANT)
    assert claims["pid"] == str(PROJECT)
    assert claims["role"] == "viewer"
    assert int(str(claims["exp"])) - int(now.timestamp()) == 600
    assert claims["jti"]


def test_every_token_has_its_own_id(box: SecretBox) -> None:
    delegation = Delegation(box)
    assert _claims_of(_mint(delegation))["jti"] != _claims_of(_mint(delegation))["jti"]


def test_an_expired_token_is_refused(box: SecretBox) -> None:
    delegation = Delegation(box)
    token = _mint(delegation, now=datetime.now(UTC) - timedelta(minutes=11))
    with pytest.raises(InvalidDelegation, match="expired"):
        delegation.verify(token)


def test_a_token_signed_with_another_secret_key_is_refused(box: SecretBox) -> None:
    token = _mint(Delegation(SecretBox(new_key())))
    with pytest.raises(InvalidDelegation, match="invalid delegation token"):
        Delegation(box).verify(token)


def test_a_token_whose_claims_were_altered_is_refused(box: SecretBox) -> None:
    delegation = Delegation(box)
    header, payload, signature = _mint(delegation).split(".")
    claims = _claims_of(f"{header}.{payload}.{signature}")
    claims["pid"] = str(uuid.uuid4())
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidDelegation):
        delegation.verify(f"{header}.{forged}.{signature}")


def test_a_token_claiming_another_role_is_refused_even_when_signed(box: SecretBox) -> None:
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "x",
        "tid": str(TENANT),
        "pid": str(PROJECT),
        "role": "admin",
        "iat": now,
        "exp": now + 60,
        "jti": "1",
    }
    token = jwt.encode(claims, box.derive_key(KEY_LABEL), algorithm=ALGORITHM)
    with pytest.raises(InvalidDelegation, match="viewer role only"):
        Delegation(box).verify(token)


def test_an_unsigned_token_is_refused(box: SecretBox) -> None:
    now = int(datetime.now(UTC).timestamp())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "tid": str(TENANT), "pid": str(PROJECT)}
    token = jwt.encode({**claims, "role": "viewer", "iat": now, "exp": now + 60, "jti": "1"}, None, "none")
    assert looks_like_delegation(token)
    with pytest.raises(InvalidDelegation):
        Delegation(box).verify(token)


def test_the_signing_key_is_not_the_encryption_key() -> None:
    key = new_key()
    assert SecretBox(key).derive_key(KEY_LABEL) != key
    assert SecretBox(key).derive_key(KEY_LABEL) != SecretBox(key).derive_key("another use")


def test_only_tokens_of_our_issuer_look_like_delegation(box: SecretBox) -> None:
    assert looks_like_delegation(_mint(Delegation(box)))
    assert not looks_like_delegation(jwt.encode({"iss": "https://idp.example"}, "k" * 32, algorithm="HS256"))
    assert not looks_like_delegation("not-a-jwt")


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(hours=2)])
def test_a_lifetime_outside_the_bounds_is_refused_at_minting(box: SecretBox, ttl: timedelta) -> None:
    with pytest.raises(ValueError, match="lives between"):
        _mint(Delegation(box), ttl=ttl)
