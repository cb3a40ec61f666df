"""Webhook signing (Standard Webhooks), the bodies of the Slack and Teams presets, backoff, URL checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from orchestra.errors import InvalidInput
from orchestra.webhooks import formats, signing
from orchestra.webhooks.delivery import backoff_s
from orchestra.webhooks.repository import event_id_of
from orchestra.webhooks.service import check_url, target_of

SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


def test_signature_is_hmac_sha256_of_id_timestamp_and_body_as_standard_webhooks_define_it() -> None:
    body = b'{"a":1}'
    expected = hmac.new(bytes(range(32)), b"msg_1.1700000000." + body, hashlib.sha256).digest()
    assert signing.signature(SECRET, "msg_1", 1700000000, body) == "v1," + base64.b64encode(expected).decode()


def test_verify_accepts_the_signed_body_and_refuses_any_change() -> None:
    body = b'{"type":"run.failed"}'
    headers = signing.headers(SECRET, "d-1", 1_000_000, body)
    assert signing.verify(SECRET, headers, body, now=1_000_010)
    assert not signing.verify(SECRET, headers, body + b" ", now=1_000_010)
    assert not signing.verify(SECRET, {**headers, "webhook-id": "d-2"}, body, now=1_000_010)
    assert not signing.verify(signing.new_secret(), headers, body, now=1_000_010)
    assert not signing.verify(SECRET, headers, body, now=1_000_000 + signing.TOLERANCE_S + 1)  # replayed late
    assert not signing.verify(SECRET, {"webhook-id": "d-1"}, body, now=1_000_000)


def test_the_documented_verification_snippet_agrees_with_the_signer() -> None:
    """docs/webhooks.md's receiver code, which uses only the standard library."""
    body = b'{"id":"x"}'
    headers = signing.headers(SECRET, "delivery-9", 1_234_567, body)
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    mine = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert any(hmac.compare_digest(mine, offered) for offered in headers["webhook-signature"].split())


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "whsec_",
        "secret",
        "whsec_not base64!",
        "whsec_" + base64.b64encode(b"short").decode(),
        "whsec_" + base64.b64encode(bytes(65)).decode(),
    ],
)
def test_a_malformed_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        signing.key_of(secret)


def test_new_secrets_are_random_and_well_formed() -> None:
    made = {signing.new_secret() for _ in range(20)}
    assert len(made) == 20
    assert all(len(signing.key_of(secret)) == signing.KEY_BYTES for secret in made)


def test_backoff_doubles_with_jitter_and_stops_at_the_cap() -> None:
    low, high = (lambda: 0.0), (lambda: 1.0)
    assert backoff_s(1, 10, 3600, low) == 7.5
    assert backoff_s(1, 10, 3600, high) == 12.5
    assert backoff_s(2, 10, 3600, low) == 15
    assert backoff_s(4, 10, 3600, high) == 100
    assert backoff_s(30, 10, 3600, high) == 3600
    assert backoff_s(10_000, 10, 3600, low) == 3600  # no overflow
    waits = [backoff_s(attempt, 10, 10**9, lambda: 0.5) for attempt in range(1, 8)]
    assert waits == [10 * 2**n for n in range(7)]


def test_event_ids_are_derived_from_the_event_key_as_the_database_does() -> None:
    assert event_id_of("run.failed/1") == event_id_of("run.failed/1")
    assert event_id_of("run.failed/1") != event_id_of("run.failed/2")
    assert event_id_of("abc").hex == hashlib.md5(b"abc").hexdigest()


def _suite_body(status: str = "FAILED") -> dict[str, Any]:
    event = {
        "suite_run": {
            "id": "s-1",
            "name": "nightly <smoke> & more",
            "status": status,
            "total": 3,
            "muted": 1,
            "counts": {"PASSED": 2, "FAILED": 1},
            "environment": "staging",
        },
        "occurred_at": "2026-12-06T03:00:00+00:00",
    }
    return formats.envelope(
        event_id="e-1", event_type="suite_run.failed", project={"id": "p", "name": "shop"}, event=event
    )


def test_the_generic_body_is_the_event_envelope() -> None:
    body = json.loads(formats.render("generic", _suite_body()))
    assert body["id"] == "e-1"
    assert body["type"] == "suite_run.failed"
    assert body["occurred_at"] == "2026-12-06T03:00:00+00:00"
    assert body["project"] == {"id": "p", "name": "shop"}
    assert body["data"]["suite_run"]["counts"] == {"PASSED": 2, "FAILED": 1}


def test_the_slack_preset_sends_text_and_blocks_with_mrkdwn_escaped() -> None:
    body = json.loads(formats.render("slack", _suite_body()))
    assert body["text"].startswith("Suite run 'nightly <smoke> & more' FAILED")
    section = body["blocks"][0]
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    assert "nightly &lt;smoke&gt; &amp; more" in section["text"]["text"]
    assert "<smoke>" not in section["text"]["text"]
    assert ":x:" in section["text"]["text"]
    assert "*Environment:* staging" in section["text"]["text"]
    assert "*Tests:* 3 (1 failed, 2 passed)" in section["text"]["text"]
    assert body["blocks"][1]["type"] == "context"


def test_the_teams_preset_sends_an_adaptive_card_in_a_message() -> None:
    body = json.loads(formats.render("teams", _suite_body()))
    assert body["type"] == "message"
    attachment = body["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    assert card["body"][0]["text"] == "Suite run 'nightly <smoke> & more' FAILED"
    assert card["body"][0]["color"] == "Attention"
    facts = {fact["title"]: fact["value"] for fact in card["body"][2]["facts"]}
    assert facts["Environment"] == "staging"
    assert facts["Muted failures"] == "1"


def test_a_passing_suite_is_reported_as_good_news() -> None:
    body = json.loads(formats.render("teams", _suite_body("PASSED")))
    assert body["attachments"][0]["content"]["body"][0]["color"] == "Good"
    assert (
        ":white_check_mark:"
        in json.loads(formats.render("slack", _suite_body("PASSED")))["text"]
        + (json.loads(formats.render("slack", _suite_body("PASSED")))["blocks"][0]["text"]["text"])
    )


def test_long_texts_stay_within_slacks_limits() -> None:
    event = {"run": {"id": "r", "name": "x" * 150, "status": "ERROR", "reason": "y" * 10_000}}
    body = formats.envelope(event_id="e", event_type="run.failed", project={"name": "p"}, event=event)
    slack = json.loads(formats.render("slack", body))
    assert len(slack["blocks"][0]["text"]["text"]) <= 3000
    assert len(slack["text"]) <= 3000


def test_a_misfire_and_a_ping_have_their_own_messages() -> None:
    event = {"schedule": {"name": "nightly"}, "due_at": "2026-12-06T03:00:00+00:00", "detail": "missed"}
    misfire = formats.envelope(
        event_id="e", event_type="schedule.misfired", project={"name": "p"}, event=event
    )
    assert json.loads(formats.render("slack", misfire))["text"].startswith("Schedule 'nightly' misfired")
    ping = formats.envelope(event_id="e", event_type="ping", project={"name": "p"}, event={"webhook": "w"})
    assert "test notification" in json.loads(formats.render("slack", ping))["text"]


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("ftp://example.com/x", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http:///path", "no host"),
        ("https://user:pw@example.com/", "user name or password"),
        ("https://example.com:99999/", "not a valid URL"),
        ("https://exa mple.com/", "spaces or control"),
        ("https://example.com/\x00", "spaces or control"),
        ("http://169.254.169.254/latest/meta-data", "never a webhook target"),
        ("http://[fe80::1]/", "never a webhook target"),
        ("http://127.0.0.1:8080/hook", "not webhook targets"),
        ("http://localhost/hook", "not webhook targets"),
        ("http://10.0.0.5/hook", "not webhook targets"),
        ("http://[::1]/hook", "not webhook targets"),
    ],
)
def test_urls_a_webhook_may_not_send_to_are_refused(url: str, needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle.replace("(", r"\(")):
        check_url(url, allow_private=False)


def test_private_targets_are_allowed_only_where_the_installation_allows_them() -> None:
    assert check_url("http://127.0.0.1:8080/hook", allow_private=True) == "http://127.0.0.1:8080/hook"
    with pytest.raises(InvalidInput, match="never"):
        check_url("http://169.254.169.254/", allow_private=True)
    assert check_url(" https://hooks.slack.com/services/T/B/X ", allow_private=False).startswith("https://")


def test_the_target_shown_hides_the_path_and_query() -> None:
    assert target_of("https://hooks.slack.com/services/T000/B000/XXXX") == "https://hooks.slack.com"
    assert target_of("http://127.0.0.1:8080/h?token=1") == "http://127.0.0.1:8080"
    assert target_of("http://[::1]:81/x") == "http://[::1]:81"
