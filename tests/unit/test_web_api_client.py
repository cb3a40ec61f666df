"""The web application's typed client is generated from a snapshot of the API's OpenAPI document
(web/src/shared/api/openapi.json; Vitest checks the types match it). This test fails when the API changed
and the snapshot, so the client, was not regenerated."""

from __future__ import annotations

import json
from pathlib import Path

from orchestra.app import create_app
from orchestra.config import Settings

SNAPSHOT = Path(__file__).resolve().parents[2] / "web" / "src" / "shared" / "api" / "openapi.json"


def test_the_committed_web_client_is_generated_from_the_current_openapi(tmp_path: Path) -> None:
    current = json.loads(json.dumps(create_app(Settings(data_dir=tmp_path)).openapi()))
    committed = json.loads(SNAPSHOT.read_text())
    assert committed == current, (
        "the API's OpenAPI document changed: regenerate the web client with `npm run gen:api` in web/ "
        "and commit web/src/shared/api/"
    )
