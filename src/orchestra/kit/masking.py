"""Secrets never leave in clear: every stored or shown artefact passes through a Masker first.

A secret is found wherever it occurs, inside larger strings too, in whatever a template, httpx and the SUT
made of it: the masker reads each text as written and with up to three layers of escapes undone
(escape_views.py: percent-encoding of any kind, JSON escapes such as Jinja's ``\\u0026``, JSON inside JSON,
HTML and Python escapes), all without regard to case (a host name httpx lower-cased, ``| upper``). It looks
there for the forms secret_forms.py derives: the secret as written or percent-decoded, the pieces a URL or
query-string parser cuts it into, its base64 and IDNA encodings. A match in a decoded reading masks the
characters of the original text it was decoded from; overlapping and adjacent matches become one mask, so a
secret that contains another leaves no fragment behind.

Values a template derives from a secret in ways no decoding undoes (``| replace``, ``| reverse``, slices)
are reported as they are made (steps/secret_taint.py) and ``learn``-ed. Not found: other encodings (hex,
hashes, encryption by the SUT), pieces shorter than ``MIN_PIECE_LENGTH``, and a secret that
is only part of a non-ASCII host-name label (IDNA encodes the label as a whole). Values shorter than
``MIN_SECRET_LENGTH`` are not masked at all (a secret "1" would eat every digit of every record).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from orchestra.kit.escape_views import Folded, Reading, readings
from orchestra.kit.secret_forms import MIN_SECRET_LENGTH, secret_forms

MASK = "********"
# Characters no escape or common URL encoder changes ("~" is one that some encode, as %7E).
_ANCHOR = re.compile("[-0-9A-Za-z._]{2,}")
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
# How many characters of a text one character of a secret can become through three layers of escapes
# ("é" percent-encoded, JSON-escaped, percent-encoded again is "%255Cu00e9"-like, 20 characters or so).
_REACH = 32


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _replaced(text: str, spans: list[tuple[int, int]]) -> str:
    parts: list[str] = []
    position = 0
    for start, end in spans:
        parts += [text[position:start], MASK]
        position = end
    parts.append(text[position:])
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class _Anchored:
    """The forms that share an anchor: the longest run of ASCII letters, digits and ``-._`` in each, 2 or
    more long, folded. No escape of any kind changes these characters, so wherever a form occurs, encoded or
    not, its anchor is there, and the rest of it within ``before`` and ``after`` characters."""

    anchor: str
    forms: list[str]
    before: int
    after: int


def _anchored(forms: Iterable[str]) -> tuple[list[_Anchored], list[str]]:
    """The forms grouped by anchor, and those without one (looked for in the whole of every text)."""
    groups: dict[str, tuple[list[str], list[int], list[int]]] = {}
    free: list[str] = []
    for form in forms:
        runs = list(_ANCHOR.finditer(form))
        if not runs:
            free.append(form.casefold())
            continue
        run = max(runs, key=lambda match: len(match.group()))
        group = groups.setdefault(run.group().casefold(), ([], [], []))
        group[0].append(form.casefold())
        group[1].append(_REACH * run.start())
        group[2].append(_REACH * (len(form) - run.end()))
    anchored = [
        _Anchored(anchor, sorted(set(found)), max(before), max(after))
        for anchor, (found, before, after) in groups.items()
    ]
    return anchored, sorted(set(free))


def _found(folded: Folded, forms: Iterable[str], offset: int) -> Iterator[tuple[int, int]]:
    """Where ``forms`` occur in ``folded``, as spans of the original text shifted by ``offset``."""
    text = folded.text
    for form in forms:
        at = text.find(form)
        while at != -1:
            start, end = folded.original_span(at, at + len(form))
            yield start + offset, end + offset
            at = text.find(form, at + 1)


class Masker:
    def __init__(self, secrets: Iterable[str]) -> None:
        self._written: set[str] = set()
        for value in secrets:
            self._written |= secret_forms(str(value))
        self._index()

    def _index(self) -> None:
        # Longest first: the beginning of the longest form is looked for first at the end of a cut text.
        self._forms = sorted({form.casefold() for form in self._written}, key=lambda form: (-len(form), form))
        self._anchored, self._free = _anchored(self._written)

    def learn(self, derived: str) -> None:
        """Mask from now on also a value a template derived from a secret (steps/secret_taint.py) — unless
        every letter and digit of it is masked already (``| tojson``, ``| upper`` of a secret: learning those
        whole would mask the quotes around them too). Learned in its escaped forms, not cut into pieces:
        those of ``[secret, "public"] | join("&")`` would mask the public part everywhere."""
        if not _LETTER_OR_DIGIT.search(self.text(derived).replace(MASK, "")):
            return
        forms = secret_forms(derived, with_pieces=False) - self._written
        if forms:
            self._written |= forms
            self._index()

    def __bool__(self) -> bool:
        return bool(self._forms)

    def _spans(self, value: str) -> Iterator[tuple[int, int]]:
        """Where the forms occur in ``value`` or in its readings: the forms without an anchor in the whole
        text, the others around their anchors only."""
        if self._free:
            for reading in readings(value):
                yield from _found(Folded(reading), self._free, 0)
        folded = Folded(Reading(value))
        for group in self._anchored:
            windows: list[tuple[int, int]] = []
            at = folded.text.find(group.anchor)
            while at != -1:
                first, last = folded.original_span(at, at + len(group.anchor))
                windows.append((max(0, first - group.before), min(len(value), last + group.after)))
                at = folded.text.find(group.anchor, at + 1)
            for start, end in _merged(windows):
                for reading in readings(value[start:end]):
                    yield from _found(Folded(reading), group.forms, start)

    def text(self, value: str) -> str:
        if not self._forms or len(value) < MIN_SECRET_LENGTH:
            return value
        spans = _merged(self._spans(value))
        return _replaced(value, spans) if spans else value

    def text_cut(self, value: str) -> str:
        """Mask a text that was cut off at its end (a record's body at its size limit): also the beginning of
        a secret that the cut left at the end, in any of the text's readings."""
        value = self.text(value)
        cut = len(value)
        for reading in readings(value):
            folded = Folded(reading)
            text = folded.text
            for form in self._forms:
                for size in range(min(len(form) - 1, len(text)), MIN_SECRET_LENGTH - 1, -1):
                    if text.endswith(form[:size]):
                        cut = min(cut, folded.original_span(len(text) - size, len(text))[0])
                        break
        return value if cut == len(value) else value[:cut] + MASK

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
