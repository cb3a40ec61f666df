"""The texts the masker looks for, for one secret: what the secret reads as once a text's escapes are undone.

The masker reads every text also with its escapes undone (escape_views.py: percent, JSON, Python and HTML
escapes, up to three layers deep, in any order and mixture) and without regard to case, so a secret needs no
form per encoding. What is left to derive:

- *how it may be written before encoding*: as is; percent-decoded (httpx keeps a ``%41`` that is in the
  secret, and the SUT reads it as ``A``), also with ``+`` read as a space; with its spaces written as ``+``
  (a form-encoded space, which the readings keep as ``+``); HTML-unescaped;
- *pieces*: what URL and query-string parsers cut it into at ``& = / ? # @ :`` — every part that begins at
  its start or after a delimiter and ends at its end or before one (a parser may cut at some delimiters and
  keep others), each only when it is at least ``MIN_PIECE_LENGTH`` characters long;
- *encodings that are not escapes*: base64 (standard and URL-safe, also inside a longer base64 text such as
  Basic credentials), and IDNA (a secret made of whole host-name labels, as httpx encodes a non-ASCII host).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from urllib.parse import unquote, unquote_plus

import idna

# Shorter values would mask unrelated text everywhere (a secret "1" would eat every digit).
MIN_SECRET_LENGTH = 3
# A piece of a secret, cut out by a URL or query-string parser, is masked only from this length: shorter ones
# ("user", "pw", "Zz") are ordinary words or letters that would be masked in every record of the run.
MIN_PIECE_LENGTH = 6
MIN_BASE64_BYTES = 8
# Where URL and query-string parsers cut a value into pieces.
_DELIMITERS = frozenset("&=/?#@:")
# A value with more delimiters yields only the parts between neighbouring ones (not every combination).
MAX_CUTS = 16


def _written(value: str) -> set[str]:
    return {
        value,
        unquote(value),
        unquote_plus(value),
        value.replace(" ", "+"),
        html.unescape(value),
    }


def _host_forms(value: str) -> set[str]:
    if value.isascii():
        return set()  # httpx lower-cases and percent-encodes it, which case folding and decoding undo
    forms: set[str] = set()
    # httpx lower-cases the whole host name, where a capital sigma becomes a final or a medial small one
    # depending on its neighbours.
    lowered = {
        (before + value + after).lower()[len(before) : len(before) + len(value)]
        for before in ("", "a")
        for after in ("", ".", "a")
    }
    for written in lowered | {
        lower.replace("\N{GREEK SMALL LETTER FINAL SIGMA}", "\N{GREEK SMALL LETTER SIGMA}")
        for lower in lowered
    }:
        try:
            forms.add(idna.encode(written).decode("ascii"))
        except (idna.IDNAError, UnicodeError):
            pass  # httpx refuses such a host, quoting it as written
    return forms


def _base64_forms(value: str) -> set[str]:
    """The whole encoding, and the characters that depend on the value alone at each of the three
    alignments it can have inside a longer encoded text (the ones at its edges mix in the neighbours)."""
    data = value.encode("utf-8")
    if len(data) < MIN_BASE64_BYTES:
        return set()
    forms: set[str] = set()
    encoders: tuple[Callable[[bytes], bytes], ...] = (base64.b64encode, base64.urlsafe_b64encode)
    for encode in encoders:
        whole = encode(data).decode("ascii")
        forms |= {whole, whole.rstrip("=")}
        for offset in range(3):
            encoded = encode(b"\0" * offset + data).decode("ascii")
            first = -(-8 * offset // 6)  # the first character made of the value's bits only
            last = 8 * (offset + len(data)) // 6  # one past the last such character
            forms.add(encoded[first:last])
    return forms


def pieces(value: str) -> set[str]:
    """What URL and query-string parsers cut ``value`` into, at least ``MIN_PIECE_LENGTH`` long: every part
    that begins at the start or after a delimiter and ends at the end or before one (a parser may cut at
    some delimiters and keep others, as a query string's value keeps ``:`` and ends at ``&`` or ``#``). A
    value with more than ``MAX_CUTS`` delimiters yields only the parts between neighbouring ones."""
    cuts = [index for index, char in enumerate(value) if char in _DELIMITERS]
    if not cuts:
        return set()
    starts = [0, *(cut + 1 for cut in cuts)]
    ends = [*cuts, len(value)]
    if len(cuts) > MAX_CUTS:
        found = {value[start:end] for start, end in zip(starts, ends, strict=True)}
    else:
        found = {value[start:end] for start in starts for end in ends if end - start >= MIN_PIECE_LENGTH}
    return {piece for piece in found if len(piece) >= MIN_PIECE_LENGTH and piece != value}


def secret_forms(value: str, *, with_pieces: bool = True) -> set[str]:
    """Every text the masker looks for, for one secret value (in the text and in its decoded readings, without
    regard to case). ``with_pieces``: also the pieces parsers cut it into."""
    if len(value) < MIN_SECRET_LENGTH:
        return set()
    forms = _written(value) | _host_forms(value) | _base64_forms(value)
    for piece in pieces(value) if with_pieces else ():
        forms |= {form for form in _written(piece) | _host_forms(piece) if len(form) >= MIN_PIECE_LENGTH}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}
