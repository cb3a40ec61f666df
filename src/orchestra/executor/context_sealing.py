"""The run's ExecutionContext as it is stored after every step: no environment secret in clear.

``vars`` and ``data`` are stored masked; the variables that held a secret (a token captured from a response
that echoed it) are kept encrypted in ``sealed_vars`` (test data values in ``sealed_data``), bound to the
run, so that a resumed run continues with their real values. The final context of a finished run keeps them
masked only. Step records (requests, responses) are masked the same way before they are serialised.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from orchestra.kit.json_storage import jsonb_safe
from orchestra.kit.masking import Masker
from orchestra.kit.secret_box import SecretBox
from orchestra.steps.recording import CUT_MARK


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def to_json(value: Any) -> str:
    """JSON text that PostgreSQL's JSONB accepts (kit/json_storage.py's ``jsonb_safe``). It runs for the
    context and the records of every step, and most values need no repair: they are written at once, and
    only those whose text shows a NUL, a lone surrogate or a non-finite number (or that the encoder refuses)
    are written again from ``jsonb_safe``'s copy, which walks every item in Python."""
    try:
        text = json.dumps(value, default=str, ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError):  # NaN or an infinity; a key JSON cannot write
        return _repaired(value)
    if "\\u0000" in text or not (text.isascii() or _encodable(text)):
        return _repaired(value)
    return text


def _repaired(value: Any) -> str:
    return json.dumps(jsonb_safe(value), default=str, ensure_ascii=False)


def _encodable(text: str) -> bool:
    """No lone surrogate (``ensure_ascii=False`` writes them as they are; UTF-8 has none)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class ContextSealing:
    def __init__(
        self, masker: Masker, box: SecretBox | None, tenant_id: uuid.UUID, run_id: uuid.UUID
    ) -> None:
        """``box``: seals the variables that hold secrets (without one they are stored masked, and a resumed
        run would see the mask)."""
        self.masker = masker
        self.box = box
        self._aad = f"orchestra/run-context/{tenant_id}/{run_id}"

    def unseal(self, context: dict[str, Any], part: str) -> dict[str, Any]:
        """The real values of ``part`` (``vars``, ``data``, or ``loop``: the items of a loop in progress) that
        were sealed in a stored context. They were
        sealed because they held secrets or values derived from them, which the masker learns again: a
        resumed run masks what it derived before (``| replace`` of a secret, captured into a variable)."""
        sealed = context.get(f"sealed_{part}")
        if not sealed or self.box is None:
            return {}
        loaded: dict[str, Any] = json.loads(self.box.decrypt(sealed, self._part_aad(part)))
        for text in _strings(loaded):
            self.masker.learn(text)
        return loaded

    def stored(self, context: dict[str, Any], *, final: bool) -> dict[str, Any]:
        """``context`` as persisted. ``final``: the run is over and never resumes, so nothing is sealed."""
        if not self.masker:
            return context
        stored = dict(context)
        for part in ("vars", "data", "loop"):
            values: dict[str, Any] = context.get(part) or {}
            masked = {name: self.masker.value(value) for name, value in values.items()}
            stored[part] = masked
            secret = {name: value for name, value in values.items() if masked[name] != value}
            if secret and self.box is not None and not final:
                stored[f"sealed_{part}"] = self.box.encrypt(to_json(secret), self._part_aad(part))
        return stored

    def _part_aad(self, part: str) -> str:
        return self._aad if part == "vars" else f"{self._aad}/{part}"

    def masked_exchange(self, record: dict[str, Any]) -> dict[str, Any]:
        """A request or response record with the secrets masked, before it is serialised (so the JSON stays
        valid whatever the secret); a body or header value cut at its limit may end in a secret's
        beginning, which is masked too."""
        if not self.masker:
            return record
        masked: dict[str, Any] = self.masker.value(record)
        if masked.get("body_truncated") and isinstance(masked.get("body"), str):
            masked["body"] = self.masker.text_cut(masked["body"])
        headers = masked.get("headers")
        if isinstance(headers, dict):
            for name, value in headers.items():
                if isinstance(value, str) and value.endswith(CUT_MARK):
                    headers[name] = self.masker.text_cut(value[: -len(CUT_MARK)]) + CUT_MARK
        return masked
