"""A real run with ``requires: an article`` against the envelope SUT (tests/integration/envelope_sut.py):
the built-in planner creates the article, the test's step reads it by its slug, the cleanup phase deletes
it, and listing the SUT afterwards shows nothing left."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from orchestra.cli.demo_process import DemoProcess
from tests.integration.conftest import Harness


@pytest.fixture(scope="module")
def sut_url() -> Iterator[str]:
    process = DemoProcess.start(module="tests.integration.envelope_sut")
    try:
        yield process.url
    finally:
        process.stop()


async def test_a_run_requiring_an_enveloped_article_creates_links_and_cleans_it_up(
    api: httpx.AsyncClient, sut_url: str
) -> None:
    harness = Harness(api, sut_url, f"p-{uuid.uuid4().hex[:8]}")
    await harness.setup()
    response = await api.put(
        f"/projects/{harness.project}/environments/sut/openapi", json={"url": f"{sut_url}/openapi.json"}
    )
    assert response.status_code in (200, 201), response.text
    case = {
        "name": "comment-on-an-article",
        "data": {"requires": "a comment on an article", "seed": 5},
        "steps": [
            {
                "name": "read the planned comment's article",
                "request": {"url": "{{ env.base_url }}/articles/{{ data.article.article.slug }}/comments"},
                "expect": {"status": 200, "json": {"$.comments[0].id": "{{ data.comment.comment.id }}"}},
            }
        ],
    }
    run = await harness.run(case)

    assert run["status"] == "PASSED", (run["status_reason"], run["steps"])
    cleanup = [step for step in run["steps"] if step["phase"] == "cleanup"]
    assert [step["status"] for step in cleanup] == ["passed", "passed"]
    assert cleanup[0]["name"].startswith("undo comment: DELETE")  # the last created first
    ledger = (await api.get(f"/runs/{run['id']}/ledger")).json()
    assert sorted((entry["label"], entry["status"]) for entry in ledger) == [
        ("article", "done"),
        ("comment", "done"),
    ]
    async with httpx.AsyncClient(base_url=sut_url) as sut:  # the SUT itself, not the ledger
        assert (await sut.get("/articles")).json()["articles"] == []
