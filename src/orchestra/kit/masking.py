"""Secrets never leave in clear: every stored or shown artefact passes through a Masker first."""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "********"
# Shorter values would mask unrelated text everywhere (a secret "1" would eat every digit).
MIN_SECRET_LENGTH = 3
_URL_SAFE = "!$'()*,;:@/?~"


class Masker:
    def __init__(self, secrets: Iterable[str]) -> None:
        given = {str(value) for value in secrets if len(str(value)) >= MIN_SECRET_LENGTH}
        # As written, and as URL encoders write it (strictly, or keeping sub-delimiters as httpx does).
        values = set(given)
        for value in given:
            values |= {
                quote(value, safe=""),
                quote_plus(value),
                quote(value, safe=_URL_SAFE),
                quote_plus(value, safe=_URL_SAFE),
            }
        # Longest first, so a secret that contains another is masked whole.
        self._plain = sorted(values, key=len, reverse=True)
        self._in_json = sorted(
            {json.dumps(value)[1:-1] for value in values} | set(values), key=len, reverse=True
        )

    def __bool__(self) -> bool:
        return bool(self._plain)

    def text(self, value: str) -> str:
        for secret in self._plain:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def json_text(self, document: str) -> str:
        """Mask a serialised JSON document; secrets are matched in their JSON-escaped form too."""
        for secret in self._in_json:
            if secret in document:
                document = document.replace(secret, MASK)
        return document
