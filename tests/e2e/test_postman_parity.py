"""Parity with newman, measured: the Postman corpus (tests/fixtures/postman/corpus, built by build_corpus.py)
runs through newman and through `orchestra run collection.json` against the same demo SUT process, and every
request's verdict and every assertion's name and verdict must be the same."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO, orchestra

NEWMAN = REPO / "tools" / "newman" / "node_modules" / ".bin" / "newman"
CORPUS = REPO / "tests" / "fixtures" / "postman" / "corpus"
DATA_DRIVEN = CORPUS / "data-driven.postman_collection.json"
ROWS = CORPUS / "data-driven.rows.csv"

pytestmark = pytest.mark.e2e
needs_newman = pytest.mark.skipif(
    not NEWMAN.exists(), reason="newman is not installed: `make newman` installs it from npm (needs npm)"
)

Verdicts = list[tuple[str, bool, list[tuple[str, bool]]]]  # (request, passed, [(assertion, passed)])


def collections() -> list[Path]:
    return sorted(path for path in CORPUS.glob("*.postman_collection.json") if path != DATA_DRIVEN)


def environment_for(sut: str, folder: Path) -> Path:
    environment = json.loads((CORPUS / "corpus.postman_environment.json").read_text())
    for value in environment["values"]:
        if value["key"] == "base-url":
            value["value"] = sut
    path = folder / "environment.json"
    path.write_text(json.dumps(environment))
    return path


def newman_verdicts(collection: Path, environment: Path, folder: Path, *extra: str) -> tuple[str, Verdicts]:
    report = folder / f"{collection.stem}.newman.json"
    subprocess.run(
        [str(NEWMAN), "run", str(collection), "-e", str(environment), *extra, "--reporters", "json",
         "--reporter-json-export", str(report)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    run = json.loads(report.read_text())["run"]
    name = json.loads(collection.read_text())["info"]["name"]
    verdicts: Verdicts = []
    seen: set[str] = set()
    for execution in run["executions"]:
        # newman lists an item's execution again for each pm.sendRequest of its scripts (the same entry)
        if execution["cursor"]["ref"] in seen:
            continue
        seen.add(execution["cursor"]["ref"])
        # in the order they finished: the callbacks of concurrent pm.sendRequest calls run as their answers
        # arrive, so that order is the network's, not newman's; the verdicts are compared as a sorted list
        assertions = sorted((a["assertion"], not a.get("error")) for a in execution.get("assertions", []))
        script_failed = any(s.get("error") for s in execution.get("testScript", []))
        failed = bool(execution.get("requestError")) or script_failed or not all(ok for _, ok in assertions)
        verdicts.append((execution["item"]["name"], not failed, assertions))
    return name, verdicts


def orchestra_verdicts(result: dict[str, Any]) -> dict[str, list[Verdicts]]:
    """Per test case (collection) name, the verdicts of each of its runs (one per data row)."""
    runs = result["runs"] if result.get("kind") == "suite_run" else [result]
    found: dict[str, list[Verdicts]] = {}
    for run in runs:
        verdicts: Verdicts = []
        for step in run["steps"]:
            assertions = sorted((a["name"], bool(a["passed"])) for a in step["assertions"] if a.get("name"))
            verdicts.append((step["name"].rsplit(" / ", 1)[-1], step["status"] == "passed", assertions))
        name = run["name"].split(" [", 1)[0]  # a data row's run is named "<test> [sku=…, qty=…]"
        found.setdefault(name, []).append(verdicts)
    return found


@needs_newman
@pytest.mark.timeout(900)  # 16 collections through newman and through Orchestra, one after the other
def test_newman_and_orchestra_give_the_same_verdict_for_every_request_and_assertion(
    demo_sut: str, tmp_path: Path
) -> None:
    environment = environment_for(demo_sut, tmp_path)
    data_dir = tmp_path / "data"
    result_file = tmp_path / "orchestra.json"
    run = orchestra(
        "run",
        *map(str, collections()),
        "-e",
        str(environment),
        "--json",
        str(result_file),
        data_dir=data_dir,
        timeout=600,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # the corpus fails and errors on purpose
    ours = orchestra_verdicts(json.loads(result_file.read_text()))
    data_file = tmp_path / "orchestra-data.json"
    data_run = orchestra(
        "run", str(DATA_DRIVEN), "-e", str(environment), "--data", str(ROWS), "--json", str(data_file),
        data_dir=data_dir,
    )  # fmt: skip
    assert data_run.returncode == 0, data_run.stdout + data_run.stderr
    ours_data = orchestra_verdicts(json.loads(data_file.read_text()))

    assertions = requests = 0
    for collection in collections():
        name, theirs = newman_verdicts(collection, environment, tmp_path)
        assert ours[name] == [theirs], f"{collection.name}: newman {theirs}\norchestra {ours[name]}"
        assertions += sum(len(found) for _, _, found in theirs)
        requests += len(theirs)
    name, theirs = newman_verdicts(DATA_DRIVEN, environment, tmp_path, "-d", str(ROWS))
    rows = len(ROWS.read_text().strip().splitlines()) - 1
    ours_rows = sorted(verdicts[0] for verdicts in ours_data[name])
    assert ours_rows == sorted(theirs), f"newman {theirs}\norchestra {ours_rows}"
    assert len(theirs) == rows
    assertions += sum(len(found) for _, _, found in theirs)
    requests += len(theirs)
    figures = f"{len(collections()) + 1} collections, {requests} requests, {assertions} assertions"
    print(f"parity with newman: {figures}")  # noqa: T201 (the measured figures, shown with -s)
    assert len(collections()) + 1 >= 12
    assert assertions >= 400, assertions


# -- hostile collections (Orchestra only: newman has no egress policy, and would loop without end) ----------


def _hostile(folder: Path, name: str, items: list[dict[str, Any]]) -> Path:
    path = folder / f"{name}.postman_collection.json"
    schema = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    path.write_text(json.dumps({"info": {"name": name, "schema": schema}, "item": items}))
    return path


def _item(name: str, url: str, test: str) -> dict[str, Any]:
    event = [{"listen": "test", "script": {"exec": test.split("\n")}}]
    return {"name": name, "request": {"method": "GET", "url": url}, "event": event}


def _steps(result_file: Path) -> list[dict[str, Any]]:
    result = json.loads(result_file.read_text())
    runs = result["runs"] if result.get("kind") == "suite_run" else [result]
    return [step for run in runs for step in run["steps"]]


def test_send_request_to_a_forbidden_host_or_the_private_network_is_refused_and_fails_the_step(
    demo_sut: str, tmp_path: Path
) -> None:
    collection = _hostile(
        tmp_path,
        "hostile send",
        [
            _item(
                "reach out",
                f"{demo_sut}/health",
                "".join(
                    f"pm.sendRequest('{url}', (err) => pm.environment.set('{name}', err.code));\n"
                    for name, url in [
                        ("metadata", "http://169.254.169.254/latest/meta-data/"),
                        ("private", "http://10.0.0.1:8080/admin"),
                        ("other", "http://elsewhere.example/"),
                    ]
                )
                + "pm.test('the callbacks got the errors', () => {});",
            ),
            _item(
                "what the callbacks saw",
                f"{demo_sut}/echo?m={{{{metadata}}}}&p={{{{private}}}}&o={{{{other}}}}",
                "pm.test('refused by policy', () => pm.expect(pm.response.json().query).to.eql("
                "{ m: 'EGRESS_REFUSED', p: 'EGRESS_REFUSED', o: 'EGRESS_REFUSED' }));",
            ),
        ],
    )
    result_file = tmp_path / "result.json"
    run = orchestra("run", str(collection), "--json", str(result_file), data_dir=tmp_path / "data")
    assert run.returncode == 1, run.stdout + run.stderr
    reach, seen = _steps(result_file)
    assert reach["status"] == "failed"
    records = [a for a in reach["assertions"] if a["check"] == "pm.sendRequest"]
    assert [a["passed"] for a in records] == [False, False, False]
    assert "169.254.169.254" in records[0]["message"]
    assert "10.0.0.1" in records[1]["message"]
    assert "elsewhere.example" in records[2]["message"]
    assert seen["status"] == "passed", seen


def test_a_script_sending_requests_in_a_loop_is_stopped_at_the_bound(demo_sut: str, tmp_path: Path) -> None:
    collection = _hostile(
        tmp_path,
        "send loop",
        [_item("loop", f"{demo_sut}/health", "while (true) pm.sendRequest(pm.request.url.toString());")],
    )
    result_file = tmp_path / "result.json"
    run = orchestra("run", str(collection), "--json", str(result_file), data_dir=tmp_path / "data")
    assert run.returncode == 1, run.stdout + run.stderr
    (step,) = _steps(result_file)
    assert step["status"] == "error"
    assert "pm.sendRequest: a script may send at most 10 requests (line 1)" in step["error"]


def test_a_set_next_request_cycle_is_stopped_after_the_jumps_allowed(demo_sut: str, tmp_path: Path) -> None:
    collection = _hostile(
        tmp_path,
        "cycle",
        [
            _item("ping", f"{demo_sut}/health", "postman.setNextRequest('pong');"),
            _item("pong", f"{demo_sut}/health", "pm.test('pong', () => {}); postman.setNextRequest('ping');"),
            _item("never", f"{demo_sut}/health", "pm.test('never', () => {});"),
        ],
    )
    result_file = tmp_path / "result.json"
    run = orchestra(
        "run", str(collection), "--json", str(result_file), data_dir=tmp_path / "data",
        ORCHESTRA_MAX_NEXT_REQUEST_JUMPS="5",
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    steps = _steps(result_file)
    ran = [step["name"] for step in steps if step["status"] != "skipped"]
    assert ran == ["ping", "pong", "ping", "pong", "ping", "pong"]  # 5 jumps, the sixth refused
    notes = [a["message"] for a in steps[5]["assertions"] if a["check"] == "postman.setNextRequest"]
    assert notes == [
        "postman.setNextRequest('ping'): the run goes on with 'ping': refused, the run made 5 jumps already "
        "(ORCHESTRA_MAX_NEXT_REQUEST_JUMPS)"
    ]
    assert [step["status"] for step in steps[6:]] == ["skipped"]  # the rest of the pass, not run
    (cycle,) = json.loads(result_file.read_text())["runs"]
    assert cycle["status"] == "ERROR"
    assert "made 5 jumps already" in cycle["status_reason"]
