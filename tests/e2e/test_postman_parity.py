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

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not NEWMAN.exists(), reason="newman is not installed: `make newman` installs it from npm (needs npm)"
    ),
]

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
    for execution in run["executions"]:
        assertions = [(a["assertion"], not a.get("error")) for a in execution.get("assertions", [])]
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
            assertions = [(a["name"], bool(a["passed"])) for a in step["assertions"] if a.get("name")]
            verdicts.append((step["name"].rsplit(" / ", 1)[-1], step["status"] == "passed", assertions))
        name = run["name"].split(" [", 1)[0]  # a data row's run is named "<test> [sku=…, qty=…]"
        found.setdefault(name, []).append(verdicts)
    return found


def test_newman_and_orchestra_give_the_same_verdict_for_every_request_and_assertion(
    demo_sut: str, tmp_path: Path
) -> None:
    environment = environment_for(demo_sut, tmp_path)
    data_dir = tmp_path / "data"
    result_file = tmp_path / "orchestra.json"
    run = orchestra(
        "run", *map(str, collections()), "-e", str(environment), "--json", str(result_file), data_dir=data_dir
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

    assertions = 0
    for collection in collections():
        name, theirs = newman_verdicts(collection, environment, tmp_path)
        assert ours[name] == [theirs], f"{collection.name}: newman {theirs}\norchestra {ours[name]}"
        assertions += sum(len(found) for _, _, found in theirs)
    name, theirs = newman_verdicts(DATA_DRIVEN, environment, tmp_path, "-d", str(ROWS))
    rows = len(ROWS.read_text().strip().splitlines()) - 1
    ours_rows = sorted(verdicts[0] for verdicts in ours_data[name])
    assert ours_rows == sorted(theirs), f"newman {theirs}\norchestra {ours_rows}"
    assert len(theirs) == rows
    assertions += sum(len(found) for _, _, found in theirs)
    assert len(collections()) + 1 >= 12
    assert assertions >= 400, assertions
