"""A text as it reads once its escapes are undone, with where each of its characters came from.

A secret reaches a stored record through any stack of per-character encodings: a template's ``| tojson``
or ``| urlencode``, httpx percent-encoding a URL, the SUT quoting a request body inside a JSON response,
HTML escaping, a Python repr in an error message. Rather than listing every stack of encodings of every
secret, the masker searches the secret in the text and in its decoded readings: up to three rounds that
undo, wherever they occur, percent escapes (``%xx`` runs read as UTF-8), JSON and Python escapes
(``\\"``, ``\\\\``, ``\\/``, ``\\n``, ``\\u00e9``, surrogate pairs, ``\\x41``, ``\\U0001f600``) and HTML
character references (``&amp;``, ``&#39;``, ``&#x3C;``) all at once — so layers stacked in any order are
undone — and rounds that undo one kind alone. Every character of a reading knows the span of the original
text it came from, so a match in a reading masks exactly those characters of the original.

Case is ignored the same way: ``folded`` is a reading in Unicode case folding ("ß" reads "ss").

Most texts hold no secret: a reading is first only its text, and the map back to the original is worked out
when something was found in it.
"""

from __future__ import annotations

import codecs
import html
import json
import re
from bisect import bisect_right
from collections.abc import Iterator
from functools import cached_property, lru_cache
from urllib.parse import unquote

# Each alternative begins with its literal character, so that the regular expression engine skips to the
# next "%", "\\" or "&" at C speed (named groups at the top would keep it from doing so).
_PERCENT = r"%[0-9A-Fa-f]{2}(?:%[0-9A-Fa-f]{2})*"
_BACKSLASH = (
    r"\\(?:u[dD][89abAB][0-9A-Fa-f]{2}\\u[dD][c-fC-F][0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}"
    r"|x[0-9A-Fa-f]{2}|[\"\\/'bfnrt])"
)
_ENTITY = r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
# Each kind alone, and all at once (for encodings stacked in any order). Decoding one kind alone matters when
# a character of another layer only looks like an escape: httpx leaves a "\" of a secret as it is in a URL
# path, where a following "/" would read as the JSON escape "\/".
_DECODERS = (
    (re.compile("|".join((_PERCENT, _BACKSLASH, _ENTITY))), ("%", "\\", "&"), 3),
    (re.compile(_PERCENT), ("%",), 2),
    (re.compile(_BACKSLASH), ("\\",), 2),
    (re.compile(_ENTITY), ("&",), 1),
)


@lru_cache(maxsize=4096)
def _unescaped_text(escape: str) -> str:
    if escape[0] == "%":
        return unquote(escape, errors="replace")
    if escape[0] == "&":
        return html.unescape(escape)
    kind = escape[1]
    if kind in "xU":
        code = int(escape[2:], 16)
        return chr(code) if code <= 0x10FFFF else escape
    if kind == "'":
        return "'"
    decoded: str = json.loads(f'"{escape}"')
    return decoded


def _unescaped(match: re.Match[str]) -> str:
    return _unescaped_text(match.group())


class _Segments:
    """Where the characters of a reading came from in its source, by segments: a copied stretch maps
    character by character, a decoded escape maps each of its characters to the whole escape. As many
    segments as escapes, however long the text."""

    def __init__(self) -> None:
        self.starts: list[int] = []  # where each segment begins in the reading
        self.sources: list[tuple[int, int, bool]] = []  # its span in the source; copied or decoded
        self.length = 0

    def copy(self, start: int, end: int) -> None:
        if end > start:
            self.starts.append(self.length)
            self.sources.append((start, end, True))
            self.length += end - start

    def add(self, length: int, start: int, end: int) -> None:
        if length:
            self.starts.append(self.length)
            self.sources.append((start, end, False))
            self.length += length

    def add_percent_run(self, run: str, offset: int) -> None:
        """A run of ``%xx`` escapes read as UTF-8, each character from the escapes of its own bytes."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        data = bytes.fromhex(run.replace("%", ""))
        first = 0
        for index in range(len(data)):
            chars = decoder.decode(data[index : index + 1])
            if chars:
                self.add(len(chars), offset + 3 * first, offset + 3 * (index + 1))
                first = index + 1
        self.add(len(decoder.decode(b"", final=True)), offset + 3 * first, offset + len(run))

    def source_span(self, index: int) -> tuple[int, int]:
        """The span of the source that character ``index`` of the reading came from."""
        segment = bisect_right(self.starts, index) - 1
        start, end, copied = self.sources[segment]
        if copied:
            at = start + index - self.starts[segment]
            return at, at + 1
        return start, end


class Reading:
    """A reading of an original text: ``text``, and where each of its characters came from."""

    def __init__(self, text: str, source: Reading | None = None, escapes: re.Pattern[str] | None = None):
        self.text = text
        self._source = source
        self._escapes = escapes

    def decoded(self, escapes: re.Pattern[str]) -> Reading:
        """This reading with one round of ``escapes`` undone."""
        return Reading(escapes.sub(_unescaped, self.text), self, escapes)

    @cached_property
    def _segments(self) -> _Segments | None:
        source, escapes = self._source, self._escapes
        if source is None or escapes is None:
            return None
        segments = _Segments()
        position = 0
        for match in escapes.finditer(source.text):
            start, end = match.span()
            segments.copy(position, start)
            if match.group()[0] == "%":
                segments.add_percent_run(match.group(), start)
            else:
                segments.add(len(_unescaped(match)), start, end)
            position = end
        segments.copy(position, len(source.text))
        return segments

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that ``text[start:end]`` came from."""
        segments = self._segments
        if segments is None or self._source is None:
            return start, end
        first = self._source.original_span(*segments.source_span(start))[0]
        last = self._source.original_span(*segments.source_span(end - 1))[1]
        return first, last


class Folded:
    """A reading in Unicode case folding; ``original_span`` maps back through the reading."""

    def __init__(self, reading: Reading) -> None:
        self.reading = reading
        self.text = reading.text.casefold()

    @cached_property
    def _origin(self) -> list[int] | None:
        """The reading's index of each folded character (None: aligned, folding never removes one)."""
        if len(self.text) == len(self.reading.text):
            return None
        return [index for index, char in enumerate(self.reading.text) for _ in char.casefold()]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        origin = self._origin
        if origin is not None:  # folding made a character several ("ß" folds to "ss")
            start, end = origin[start], origin[end - 1] + 1
        return self.reading.original_span(start, end)


def readings(text: str) -> Iterator[Reading]:
    """``text`` as written, then as it reads after each round of decoding (every kind of escape at once, and
    each kind alone), while a round changes it."""
    original = Reading(text)
    yield original
    seen = {text}
    for escapes, hints, rounds in _DECODERS:
        current = original
        for _ in range(rounds):
            if not any(hint in current.text for hint in hints):
                break
            current = current.decoded(escapes)
            if current.text in seen:
                break
            seen.add(current.text)
            yield current
