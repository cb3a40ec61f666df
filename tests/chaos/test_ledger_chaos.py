"""Chaos for the data ledger: an executor killed mid-run after the run created something in the SUT; the run
resumed elsewhere creates nothing again and still undoes what was created."""

from __future__ import annotations

import signal
import uuid
from typing import Any

import httpx
import pytest

from tests.chaos.conftest import Cluster, setup_project, start_run, sut_requests, wait_for
from tests.chaos.test_chaos import boot, executor_by_owner, holder_of, long_case, progress, wait_until

pytestmark = pytest.mark.chaos

LOGIN = {"username": "demo", "password": "demo-password"}


def creating_case(name: str, marker: str) -> dict[str, Any]:
    """Logs in, creates an item (declaring its cleanup), then runs long enough to be killed."""
    waiting = long_case(name, marker, steps=30)["steps"]
    return {
        "name": name,
        "setup": [
            {
                "request": {"method": "POST", "url": "{{ env.base_url }}/auth/token", "json": LOGIN},
                "capture": {"token": "$.access_token"},
            }
        ],
        "steps": [
            {
                "name": "create",
                "request": {
                    "method": "POST",
                    "url": f"{{{{ env.base_url }}}}/items?m={marker}&kind=create",
                    "headers": {"Authorization": "Bearer {{ token }}"},
                    "json": {"name": f"chaos-{marker}", "price": 1},
                },
                "expect": {"status": 201},
                "cleanup": {
                    "url": "{{ response.headers.location }}",
                    "headers": {"Authorization": "Bearer {{ token }}"},
                },
            },
            *waiting,
        ],
    }


def test_killed_executor_run_resumes_without_creating_again_and_cleans(
    cluster: Cluster, demo_sut: str
) -> None:
    boot(cluster)
    marker = uuid.uuid4().hex
    with cluster.client() as client:
        setup_project(client, demo_sut, creating_case("creator", marker))
        run_id = start_run(client, "creator")
    wait_until(lambda: progress(cluster, run_id) >= 20, 30, "the item created and part of the run committed")
    executor_by_owner(cluster, holder_of(cluster, run_id) or "").signal(signal.SIGKILL)
    (run,) = wait_for(cluster, [run_id], timeout_s=90)

    assert run["status"] == "PASSED", run["status_reason"]
    assert run["attempt"] == 2
    creates = [query for query in sut_requests(demo_sut, marker) if "kind=create" in query]
    assert len(creates) == 1
    with cluster.client() as client:
        ledger = client.get(f"/runs/{run_id}/ledger").json()
    assert [(entry["label"], entry["status"]) for entry in ledger] == [("create", "done")]
    cleanups = [step for step in run["steps"] if step["phase"] == "cleanup"]
    assert [step["status"] for step in cleanups] == ["passed"]
    token = httpx.post(f"{demo_sut}/auth/token", json=LOGIN).json()["access_token"]
    item = httpx.get(ledger[0]["resource"], headers={"Authorization": f"Bearer {token}"})
    assert item.status_code == 404
