"""What a failed run failed with, as one message, and that message normalised so that the same cause reads
the same in every run: ids, numbers, timestamps, UUIDs and long hex strings masked, whitespace collapsed."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any, Protocol

MAX_MESSAGE = 2000  # characters of a message kept for grouping (what follows rarely names another cause)

# Order matters: a timestamp before its numbers, a UUID before its hex and digits.
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
        "<uuid>",
    ),
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
        ),
        "<time>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    (
        re.compile(
            r"\b(?:0x)?[0-9a-fA-F]*\d[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|\b(?:0x)?[0-9a-fA-F]*[a-fA-F]"
            r"[0-9a-fA-F]*\d[0-9a-fA-F]*\b"
        ),
        "<hex>",
    ),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
)
# An HTTP status is the cause, not noise: a 100-599 right after one of these words stays as it is.
_STATUS_CONTEXT = re.compile(r"(?i)\b(?:status|http|got|expected|returned|answered|code)\W{0,4}$")
_SPACE = re.compile(r"\s+")
_MIN_HEX = 8  # shorter mixed letter-digit words ("v2", "e2e", "md5") are words, not ids


class FailedStep(Protocol):
    @property
    def phase(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def error(self) -> str | None: ...
    @property
    def assertions(self) -> list[dict[str, Any]]: ...


def _mask_hex(match: re.Match[str]) -> str:
    return "<hex>" if len(match.group(0).removeprefix("0x")) >= _MIN_HEX else match.group(0)


def _mask_number(match: re.Match[str]) -> str:
    number = match.group(0)
    before = match.string[max(0, match.start() - 12) : match.start()]
    if number.isdigit() and 100 <= int(number) <= 599 and _STATUS_CONTEXT.search(before):
        return number
    return "<n>"


def normalise(message: str) -> str:
    """The message with what differs from run to run masked (see the module's docstring); an HTTP status
    after "status", "HTTP", "got", "expected" … is kept."""
    text = message[:MAX_MESSAGE]
    for pattern, mask in _MASKS:
        replace = {"<hex>": _mask_hex, "<n>": _mask_number}.get(mask, mask)
        text = pattern.sub(replace, text)
    return _SPACE.sub(" ", text).strip()


def fingerprint(signature: str) -> str:
    return hashlib.sha256(signature.encode("utf-8", "replace")).hexdigest()


def _check_message(check: dict[str, Any]) -> str:
    message = check.get("message")
    if message:
        return str(message)
    return f"{check.get('check', 'check')}: expected {check.get('expected')!r}, got {check.get('actual')!r}"


def _failed(check: dict[str, Any]) -> bool:
    skipped = check.get("skipped") is True or "skipped" in (check.get("outcome"), check.get("status"))
    return not skipped and check.get("passed", True) is False


def failure_message(steps: Sequence[FailedStep], status: str, status_reason: str | None) -> str:
    """The first failed or errored step (by the order the steps were given): its phase and name, then its
    error or its failed checks; without one, the run's verdict and reason."""
    for step in steps:
        if step.status not in ("failed", "error"):
            continue
        failed = [_check_message(check) for check in step.assertions if _failed(check)]
        detail = step.error if step.status == "error" or not failed else "; ".join(failed)
        return f"{step.phase}/{step.name}: {detail or step.status}"
    return f"{status}: {status_reason or 'no step failed'}"
