"""Files the API offers for download (a definition's YAML file), with their OpenAPI description."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

YAML_FILE: dict[int | str, dict[str, Any]] = {
    # the schema is the document the file holds (a mapping), as a YAML-reading client sees it
    200: {"content": {"application/yaml": {"schema": {"type": "object"}}}, "description": "A YAML file"}
}


def yaml_file(name: str, text: str) -> Response:
    """``text`` as a YAML file, offered for download under ``name`` (a name safe in a header)."""
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(text, media_type="application/yaml; charset=utf-8", headers=headers)
