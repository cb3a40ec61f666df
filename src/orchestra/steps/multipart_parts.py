"""The parts of a ``multipart`` body as httpx sends them: a text field as a part with no file name, a file
(``{filename, content_type, content_base64}``, testcase_model.MultipartFile) as a part with its name, its
content and its content type (none given: guessed from the file name, ``application/octet-stream`` when the
name tells nothing, as newman does)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any


def multipart_part(value: Any) -> tuple[str | None, str | bytes] | tuple[str, bytes, str]:
    if not isinstance(value, Mapping):
        return None, str(value)
    filename = str(value["filename"])
    content = base64.b64decode(str(value["content_base64"]))
    content_type = value.get("content_type")
    return (filename, content) if not content_type else (filename, content, str(content_type))
