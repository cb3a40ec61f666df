"""curl's ``-F``/``--form`` and ``--form-string`` fields read as a ``multipart`` body of the test language.

As curl reads them: ``name=text`` is a text field, ``name=@path`` a file part (its content read now, see
postman_uploads.UploadFolder: only under the working directory, at most 512 KiB in all), ``name=<path`` a
text field holding the file's text; ``;type=…`` and ``;filename=…`` after a file set the part's content type
and file name (a text field's own ``;type=`` has no form and is refused); a value may be written in double
quotes. ``--form-string`` takes the text as it is (no ``@``,
``<`` or ``;``). A file is read only where there is a working directory (the command line); the API imports
only text fields and says so. A name given twice is refused: ``multipart`` sends each name once.
"""

from __future__ import annotations

from pathlib import Path

from orchestra.importers.postman_uploads import UploadFolder
from orchestra.importers.requests import ImportRefused

_MODIFIERS = ("type", "filename", "headers", "encoder")


def _split_parameters(text: str) -> tuple[str, dict[str, str]]:
    """The value of ``text`` and its ``;key=value`` modifiers; a value may be written in double quotes."""
    value, rest = _one_value(text)
    modifiers: dict[str, str] = {}
    while rest:
        key, equals, tail = rest[1:].partition("=")  # rest starts with ";"
        key = key.strip().lower()
        if not equals or key not in _MODIFIERS:
            raise ImportRefused(f"unknown -F modifier {rest[:40]!r} (understood: type=, filename=)")
        modifiers[key], rest = _one_value(tail)
    return value, modifiers


def _one_value(text: str) -> tuple[str, str]:
    """The value at the start of ``text`` and the rest, which is empty or starts with ``;``."""
    if text.startswith('"'):
        chars: list[str] = []
        index = 1
        while index < len(text) and text[index] != '"':
            if text[index] == "\\" and index + 1 < len(text):
                index += 1
            chars.append(text[index])
            index += 1
        if index >= len(text):
            raise ImportRefused(f"a -F value opens a double quote it does not close: {text[:80]!r}")
        rest = text[index + 1 :]
        if rest and not rest.startswith(";"):
            raise ImportRefused(f"cannot read the -F value {text[:80]!r}")
        return "".join(chars), rest
    lower = text.lower()
    cut = min((at for name in _MODIFIERS if (at := lower.find(f";{name}=")) >= 0), default=len(text))
    return text[:cut], text[cut:]


def form_part(option: str, field: str, uploads: UploadFolder | None) -> tuple[str, str | dict[str, str]]:
    """(name, part) of one ``-F``/``--form-string`` argument: a text value or a file part."""
    name, equals, content = field.partition("=")
    if not equals or not name:
        raise ImportRefused(f"{option} expects name=value, got {field[:80]!r}")
    if option == "--form-string":
        return name, content
    if not content.startswith(("@", "<")):
        value, modifiers = _split_parameters(content)
        if modifiers:
            raise ImportRefused(
                f"{option} {name}: a text field's ;{next(iter(modifiers))}= has no form in the test language "
                "(write the value with --form-string if the ; belongs to it)"
            )
        return name, value
    path, modifiers = _split_parameters(content[1:])
    allowed = {"type", "filename"} if content.startswith("@") else set()
    if set(modifiers) - allowed:
        extra = ", ".join(sorted(set(modifiers) - allowed))
        raise ImportRefused(
            f"{option} {name}: the part modifier(s) {extra} have no form in the test language"
        )
    if not path or not Path(path).name:
        raise ImportRefused(f"{option} {name}: {content[:200]!r} names no file")
    if uploads is None:
        raise ImportRefused(
            f"{option} {name}={content[:1]}{path[:200]} reads a file: import it with `orchestra import curl` "
            "in the folder that holds the file (the API reads no files)"
        )
    where = f"{option} {name}"
    if content.startswith("<"):
        raw = uploads.read(path, where)
        try:
            return name, raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportRefused(
                f"{where}: the file {path[:200]!r} is not UTF-8 text; send it as @file"
            ) from None
    part = uploads.part(path, modifiers.get("type", ""), where)
    if modifiers.get("filename"):
        part["filename"] = modifiers["filename"][:255]
    return name, part
