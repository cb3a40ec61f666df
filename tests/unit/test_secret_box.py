"""The secret box (AES-256-GCM, bound to a place), its key handling, and the masker's encoded forms."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
import stat
import uuid
from pathlib import Path

import pytest
import structlog

from orchestra.config import Settings
from orchestra.kit.environment_secrets import SecretUnreadable, reveal, seal, seal_plaintexts
from orchestra.kit.logging import configure
from orchestra.kit.masking import ACTIVE_SECRETS, MASK, Masker
from orchestra.kit.secret_box import (
    PREFIX,
    SecretBox,
    SecretDecryptionError,
    SecretKeyError,
    load_secret_key,
    new_key,
)

SECRET = "s3cr3t-Zebra-7781"
AAD = "orchestra/environment-secret/t/e/token"


def settings(tmp_path: Path, **fields: object) -> Settings:
    values: dict[str, object] = {"data_dir": tmp_path / "data", "secret_key": None, "secret_key_file": None}
    return Settings.model_validate({**values, **fields})


def test_round_trip_with_a_fresh_nonce_every_time() -> None:
    box = SecretBox(new_key())
    first, second = box.encrypt(SECRET, AAD), box.encrypt(SECRET, AAD)
    assert first.startswith(PREFIX)
    assert first != second  # a random nonce per value: equal secrets do not look equal at rest
    assert SECRET not in first
    assert box.decrypt(first, AAD) == box.decrypt(second, AAD) == SECRET
    assert box.decrypt(box.encrypt("ünïcødé ✓", AAD), AAD) == "ünïcødé ✓"
    assert box.decrypt(box.encrypt("", AAD), AAD) == ""
    assert SecretBox.is_encrypted(first)
    assert not SecretBox.is_encrypted(SECRET)
    assert not SecretBox.is_encrypted(5)


def test_a_wrong_key_does_not_decrypt() -> None:
    token = SecretBox(new_key()).encrypt(SECRET, AAD)
    with pytest.raises(SecretDecryptionError, match="not the one it was encrypted with"):
        SecretBox(new_key()).decrypt(token, AAD)


def test_a_ciphertext_moved_to_another_place_does_not_decrypt() -> None:
    box = SecretBox(new_key())
    token = box.encrypt(SECRET, AAD)
    with pytest.raises(SecretDecryptionError):
        box.decrypt(token, "orchestra/environment-secret/t/other-environment/token")


@pytest.mark.parametrize("position", [0, 5, 12, 20, -1])
def test_a_tampered_ciphertext_does_not_decrypt(position: int) -> None:
    box = SecretBox(new_key())
    raw = bytearray(base64.b64decode(box.encrypt(SECRET, AAD)[len(PREFIX) :]))
    raw[position] ^= 0x01
    with pytest.raises(SecretDecryptionError):
        box.decrypt(PREFIX + base64.b64encode(bytes(raw)).decode(), AAD)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (SECRET, "not encrypted"),
        (PREFIX + "***not base64***", "not valid base64"),
        (PREFIX + base64.b64encode(b"short").decode(), "too short"),
    ],
)
def test_malformed_values_are_refused_clearly(token: str, message: str) -> None:
    with pytest.raises(SecretDecryptionError, match=message) as caught:
        SecretBox(new_key()).decrypt(token, AAD)
    assert SECRET not in str(caught.value)


def test_a_key_must_have_32_bytes() -> None:
    with pytest.raises(SecretKeyError, match="32 bytes"):
        SecretBox(b"x" * 16)


def test_the_key_file_is_created_with_mode_0600_on_first_start(tmp_path: Path) -> None:
    config = settings(tmp_path)
    key = load_secret_key(config)
    path = tmp_path / "data" / "secret.key"
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.b64decode(path.read_text().strip()) == key
    assert load_secret_key(config) == key  # the next start reads the same key


def test_a_configured_key_file_path_is_used(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "deep" / "orchestra.key"
    key = load_secret_key(settings(tmp_path, secret_key_file=path))
    assert base64.b64decode(path.read_text()) == key
    assert not (tmp_path / "data" / "secret.key").exists()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secret.key"
    path.write_text(base64.b64encode(new_key()).decode())
    os.chmod(path, mode)
    with pytest.raises(SecretKeyError, match=f"chmod 600 {path}"):
        load_secret_key(settings(tmp_path, secret_key_file=path))


def test_a_key_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, base64.b64encode(b"too short"))
    os.close(fd)
    with pytest.raises(SecretKeyError, match="decodes to 9 bytes"):
        load_secret_key(settings(tmp_path, secret_key_file=path))


def test_the_key_from_settings_wins_and_no_file_is_written(tmp_path: Path) -> None:
    key = new_key()
    assert load_secret_key(settings(tmp_path, secret_key=base64.b64encode(key).decode())) == key
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64 at all!", "not valid base64"),
        (base64.b64encode(b"sixteen bytes!!!").decode(), "decodes to 16 bytes"),
        ("", "decodes to 0 bytes"),
    ],
)
def test_a_bad_key_in_settings_is_refused(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(SecretKeyError, match=message) as caught:
        load_secret_key(settings(tmp_path, secret_key=value))
    assert "ORCHESTRA_SECRET_KEY" in str(caught.value)
    assert "openssl rand -base64 32" in str(caught.value)


def test_environment_secrets_are_bound_to_tenant_environment_and_name() -> None:
    box = SecretBox(new_key())
    tenant, environment, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    stored = seal(box, tenant, environment, {"token": SECRET, "other": "x"})
    assert reveal(box, tenant, environment, "sut", stored) == {"token": SECRET, "other": "x"}
    for moved in (
        lambda: reveal(box, tenant, other, "copy", stored),  # copied into another environment
        lambda: reveal(box, uuid.uuid4(), environment, "sut", stored),  # another tenant
        lambda: reveal(box, tenant, environment, "sut", {"renamed": stored["token"]}),  # another name
        lambda: reveal(SecretBox(new_key()), tenant, environment, "sut", stored),  # another key
    ):
        with pytest.raises(SecretUnreadable) as caught:
            moved()
        message = str(caught.value)
        assert "cannot be decrypted" in message
        assert "environment '" in message
        assert SECRET not in message


def test_a_wrong_key_names_the_environment_and_the_secret() -> None:
    tenant, environment = uuid.uuid4(), uuid.uuid4()
    stored = seal(SecretBox(new_key()), tenant, environment, {"api_token": SECRET})
    expected = f"secret 'api_token' of environment 'staging' \\({environment}\\) cannot be decrypted"
    with pytest.raises(SecretUnreadable, match=expected):
        reveal(SecretBox(new_key()), tenant, environment, "staging", stored)


def test_plaintexts_from_before_encryption_are_sealed_once() -> None:
    box = SecretBox(new_key())
    tenant, environment = uuid.uuid4(), uuid.uuid4()
    already = seal(box, tenant, environment, {"new": "n-value"})
    sealed, count = seal_plaintexts(box, tenant, environment, {"old": SECRET, **already})
    assert count == 1
    assert sealed["new"] == already["new"]
    assert all(SecretBox.is_encrypted(value) for value in sealed.values())
    assert seal_plaintexts(box, tenant, environment, sealed) == (sealed, 0)
    assert reveal(box, tenant, environment, "e", sealed) == {"old": SECRET, "new": "n-value"}
    # An executor meeting a value the start-up pass has not reached yet uses it as it is.
    assert reveal(box, tenant, environment, "e", {"old": SECRET}) == {"old": SECRET}


# -- masking -------------------------------------------------------------------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_base64_forms_are_masked_also_inside_longer_encodings() -> None:
    masker = Masker([SECRET])
    for prefix in ("", "u:", "us:", "user:", "a-much-longer-user-name:"):
        for suffix in ("", "x", ":yz", "!trailing"):
            encoded = b64(prefix + SECRET + suffix)
            masked = masker.text(f"Basic {encoded}")
            assert MASK in masked, (prefix, suffix)
            assert encoded not in masked
    urlsafe = base64.urlsafe_b64encode(b"\xfb\xff" + SECRET.encode()).decode()
    assert MASK in masker.text(urlsafe)
    assert masker.text(b64(SECRET)) == MASK
    assert masker.text(b64(SECRET).rstrip("=")) == MASK


def test_escaped_and_encoded_forms_are_masked() -> None:
    odd = 'p@ss/w0rd "<&>" \\ ü'
    masker = Masker([odd])
    for form in (
        odd,
        json.dumps(odd)[1:-1],
        json.dumps(odd, ensure_ascii=False)[1:-1],
        json.dumps(odd)[1:-1].replace("/", "\\/"),
        "p%40ss%2Fw0rd%20%22%3C%26%3E%22%20%5C%20%C3%BC",
        "p%40ss%2Fw0rd+%22%3C%26%3E%22+%5C+%C3%BC",
        "p@ss/w0rd &quot;&lt;&amp;&gt;&quot; \\ ü",
        repr(odd)[1:-1],
    ):
        assert masker.text(f"before {form} after") == f"before {MASK} after", form


def test_masking_a_structure_keeps_it_valid_json_whatever_the_secret() -> None:
    nasty = '","x":"'
    masker = Masker([nasty, SECRET])
    record = {"headers": {"X-Token": f"Bearer {SECRET}"}, "body": json.dumps({"pw": nasty}), "n": [1, 2]}
    masked = masker.value(record)
    serialised = json.dumps(masked)
    assert json.loads(serialised) == masked
    assert SECRET not in serialised
    assert masked["headers"]["X-Token"] == f"Bearer {MASK}"
    assert masked["n"] == [1, 2]


def test_numbers_holding_a_secret_are_masked_and_others_kept() -> None:
    masker = Masker(["778123"])
    assert masker.value({"pin": 778123, "status": 200, "ok": True, "none": None}) == {
        "pin": MASK,
        "status": 200,
        "ok": True,
        "none": None,
    }


def test_a_text_cut_inside_a_secret_loses_the_secrets_beginning_too() -> None:
    masker = Masker([SECRET])
    assert masker.text_cut(f"body {SECRET} then {SECRET[:9]}") == f"body {MASK} then {MASK}"
    assert masker.text_cut("body ends normally") == "body ends normally"


def test_short_secrets_are_not_masked() -> None:
    masker = Masker(["ab", "1"])
    assert not masker
    assert masker.text("ab 1 abc 123") == "ab 1 abc 123"
    # Too short for base64 forms, long enough for the others.
    assert Masker(["abc"]).text(f"abc {b64('abc')}") == f"{MASK} {b64('abc')}"


def test_log_lines_lose_the_secrets_of_runs_in_flight() -> None:
    stream = io.StringIO()
    saved = structlog.get_config()  # restored as it was: a stream bound now is closed after this test
    configure("debug", json_lines=True, stream=stream)
    try:
        logger = structlog.get_logger("test")
        with ACTIVE_SECRETS.holding(Masker([SECRET])):
            logger.info("step.failed", url=f"http://sut/x?key={SECRET}", nested={"why": [SECRET]})
            try:
                raise RuntimeError(f"cannot connect to http://sut/{SECRET}")
            except RuntimeError:
                logger.exception("run.internal_error")
        logger.info("after", value=SECRET)  # no run holds it any more
    finally:
        structlog.configure(**saved)
    lines = stream.getvalue().splitlines()
    assert SECRET not in "\n".join(lines[:2])
    assert MASK in lines[0]
    assert "RuntimeError" in lines[1]
    assert SECRET in lines[2]


def test_the_stored_context_masks_secrets_and_a_resumed_run_gets_them_back() -> None:
    from datetime import UTC, datetime
    from typing import Any, cast

    from orchestra.definitions.loader import validate_test_case_data
    from orchestra.executor.lease import Lease
    from orchestra.executor.plan import compile_plan
    from orchestra.executor.run_execution import EnvironmentSnapshot, RunExecution

    plan = compile_plan(
        validate_test_case_data({"name": "t", "steps": [{"request": {"url": "http://x.test"}}]})
    )
    environment = EnvironmentSnapshot("sut", "http://x.test", {}, {"token": SECRET})
    box = SecretBox(new_key())

    def lease(context: dict[str, Any]) -> Lease:
        return Lease(
            run_id=uuid.UUID(int=1),
            tenant_id=uuid.UUID(int=2),
            fencing_token=1,
            attempt=1,
            started_at=datetime.now(UTC),
            timeout_s=None,
            cancel_requested=False,
            test_case_version_id=uuid.uuid4(),
            environment_id=uuid.uuid4(),
            variables={},
            context=context,
            name="t",
        )

    def execution(context: dict[str, Any], with_box: SecretBox | None = box) -> RunExecution:
        return RunExecution(lease(context), cast(Any, None), plan, environment, cast(Any, None), box=with_box)

    first = execution({})
    first.vars.update({"captured": f"Bearer {SECRET}", "plain": "kept", "n": 7781, "deep": {"k": [SECRET]}})
    stored = json.loads(json.dumps(first.stored_context()))
    assert SECRET not in json.dumps(stored)
    assert stored["vars"]["plain"] == "kept"
    assert stored["vars"]["captured"] == f"Bearer {MASK}"
    assert stored["sealed_vars"].startswith(PREFIX)
    resumed = execution(stored)
    assert resumed.vars["captured"] == f"Bearer {SECRET}"
    assert resumed.vars["deep"] == {"k": [SECRET]}
    assert resumed.vars["plain"] == "kept"
    # A finished run never resumes: its final context keeps the masks only.
    final = resumed.stored_context(final=True)
    assert "sealed_vars" not in final
    assert SECRET not in json.dumps(final)
    # The sealed variables belong to their run: another run's context does not open them.
    moved = dataclasses.replace(lease(stored), run_id=uuid.uuid4())
    with pytest.raises(SecretDecryptionError):
        RunExecution(moved, cast(Any, None), plan, environment, cast(Any, None), box=box)
