"""The documents operations fuzzed with schemathesis (as ``test_api_fuzz`` does for the whole API): whatever
a client sends, never a 5xx, and documented responses conform to their schemas."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import schemathesis

from tests.integration.test_api_fuzz import fuzz


@pytest.fixture
def base_url(server_port: int) -> str:
    """The API under uvicorn on 127.0.0.1, served in the test's event loop."""
    return f"http://127.0.0.1:{server_port}"


async def test_documents_operations_get_no_5xx_and_documented_responses(
    api: httpx.AsyncClient, base_url: str, auth_headers: dict[str, str]
) -> None:
    openapi = (await api.get("/openapi.json")).json()
    openapi["paths"] = {path: item for path, item in openapi["paths"].items() if "/documents" in path}
    assert len(openapi["paths"]) == 3
    schema = schemathesis.openapi.from_dict(openapi)
    failures, sent = await asyncio.to_thread(fuzz, schema, base_url, dict(auth_headers))
    assert not failures, f"{len(failures)} failing operation(s):\n\n" + "\n\n".join(failures)
    assert sent > 50, f"only {sent} requests were generated"
