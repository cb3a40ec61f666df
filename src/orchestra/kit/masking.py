"""Secrets never leave in clear: every stored or shown artefact passes through a Masker first.

A secret is found in the forms it takes on its way through an HTTP exchange and the texts made of it: as
written, URL-encoded (strictly, as forms encode it, and keeping sub-delimiters as httpx does), JSON-escaped
(ASCII-only or not, ``/`` escaped or not, and twice, as JSON quoted inside JSON), HTML-escaped, in a Python
repr, and base64-encoded (standard and URL-safe alphabets) — also inside a longer base64 text such as Basic
credentials ``user:secret`` or a token that embeds it. Every form is masked wherever it occurs, inside
larger strings too. Not found: other encodings (hex, hashes, encryption by the SUT).

Values shorter than ``MIN_SECRET_LENGTH`` are not masked (a secret "1" would eat every digit of every
record); base64 forms are looked for only for values of at least ``MIN_BASE64_BYTES`` bytes, so that the
fragments searched for are 10 characters or more and do not match unrelated text by chance.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "********"
# Shorter values would mask unrelated text everywhere (a secret "1" would eat every digit).
MIN_SECRET_LENGTH = 3
MIN_BASE64_BYTES = 8
_URL_SAFE = "!$'()*,;:@/?~"


def _url_forms(value: str) -> set[str]:
    return {
        quote(value, safe=""),
        quote_plus(value),
        quote(value, safe=_URL_SAFE),
        quote_plus(value, safe=_URL_SAFE),
    }


def _json_escaped(value: str) -> set[str]:
    forms = {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    return forms | {form.replace("/", "\\/") for form in forms if "/" in form}


def _escaped_forms(value: str) -> set[str]:
    return _json_escaped(value) | {html.escape(value), repr(value)[1:-1]}


def _base64_forms(value: str) -> set[str]:
    """The whole encoding, and the characters that depend on the value alone at each of the three
    alignments it can have inside a longer encoded text (the ones at its edges mix in the neighbours)."""
    data = value.encode("utf-8")
    if len(data) < MIN_BASE64_BYTES:
        return set()
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(data).decode("ascii")
        forms |= {whole, whole.rstrip("=")}
        for offset in range(3):
            encoded = encode(b"\0" * offset + data).decode("ascii")
            first = -(-8 * offset // 6)  # the first character made of the value's bits only
            last = 8 * (offset + len(data)) // 6  # one past the last such character
            forms.add(encoded[first:last])
    return forms


def secret_forms(value: str) -> set[str]:
    """Every text the masker replaces for one secret value."""
    if len(value) < MIN_SECRET_LENGTH:
        return set()
    forms = {value} | _url_forms(value)
    for form in set(forms):
        forms |= _escaped_forms(form)
    for form in set(forms):  # JSON inside JSON: a request body quoted in a JSON response is escaped twice
        forms |= _json_escaped(form)
    forms |= _base64_forms(value)
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Masker:
    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for value in secrets:
            forms |= secret_forms(str(value))
        # Longest first, so a secret that contains another (or a longer form of it) is masked whole.
        self._forms = sorted(forms, key=lambda form: (-len(form), form))

    def __bool__(self) -> bool:
        return bool(self._forms)

    def text(self, value: str) -> str:
        for secret in self._forms:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def text_cut(self, value: str) -> str:
        """Mask a text that was cut off at its end (a record's body at its size limit): also the beginning of
        a secret that the cut left at the end."""
        value = self.text(value)
        for form in self._forms:
            for size in range(min(len(form) - 1, len(value)), MIN_SECRET_LENGTH - 1, -1):
                if value.endswith(form[:size]):
                    return value[:-size] + MASK
        return value

    def json_text(self, document: str) -> str:
        """Mask a serialised JSON document; secrets are matched in their JSON-escaped form too. Prefer
        ``value`` before serialising: it cannot make the document invalid, whatever the secret."""
        return self.text(document)

    def value(self, value: Any) -> Any:
        """``value`` with every string in it masked (dict keys too), at any depth. A number whose digits
        contain a secret becomes the mask."""
        if isinstance(value, str):
            return self.text(value)
        if not self:
            return value
        if isinstance(value, dict):
            return {
                (self.text(key) if isinstance(key, str) else key): self.value(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            written = str(value)
            return MASK if self.text(written) != written else value
        return value


class ActiveSecrets:
    """The maskers of the runs this process is executing, so that log lines can be masked too (see
    kit/logging.py): whatever a log line quotes (an exception text, a URL, a reason) loses the secrets of
    every run in flight."""

    def __init__(self) -> None:
        self._maskers: dict[int, Masker] = {}

    @contextmanager
    def holding(self, masker: Masker) -> Iterator[None]:
        if not masker:
            yield
            return
        key = id(masker)
        self._maskers[key] = masker
        try:
            yield
        finally:
            self._maskers.pop(key, None)

    def __bool__(self) -> bool:
        return bool(self._maskers)

    def mask(self, value: Any) -> Any:
        for masker in list(self._maskers.values()):
            value = masker.value(value)
        return value


ACTIVE_SECRETS = ActiveSecrets()
