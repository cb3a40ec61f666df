"""End to end: `orchestra import openapi` writes a suite from the demo SUT's own description, which runs green
against the demo SUT process and fails, exactly where the answers deviate, against a variant that breaks its
description; a re-import of a changed description updates what was generated and keeps what was edited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from orchestra.cli.demo_process import DemoProcess
from orchestra.demo.sut_store import DEMO_PASSWORD, DEMO_USERNAME
from tests.e2e.conftest import orchestra
from tests.ports import refused_url

pytestmark = pytest.mark.e2e

CREDENTIALS = ("--secret", f"username={DEMO_USERNAME}", "--secret", f"password={DEMO_PASSWORD}")


@pytest.fixture(scope="module")
def broken_sut() -> Iterator[str]:
    process = DemoProcess.start(module="tests.e2e.broken_demo_sut")
    try:
        yield process.url
    finally:
        process.stop()


def statuses(report: Path) -> dict[str, str]:
    return {run["name"]: run["status"] for run in json.loads(report.read_text())["runs"]}


def import_and_run(sut: str, tmp_path: Path) -> tuple[Path, dict[str, str], str]:
    out, data_dir = tmp_path / "shop", tmp_path / "data"
    imported = orchestra(
        "import", "openapi", f"{sut}/openapi.json", "-o", str(out), "--env", "demo", data_dir=data_dir
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "secrets the tests read (never written into them): username" in imported.stdout
    assert f"run them with: orchestra run {out} --env demo --secret username --secret password" in (
        " ".join(imported.stdout.split())
    )
    for path in out.iterdir():
        assert DEMO_PASSWORD not in path.read_text()
    report = tmp_path / "report.json"
    run = orchestra("run", str(out), "--env", "demo", *CREDENTIALS, "--json", str(report), data_dir=data_dir)
    return out, statuses(report), run.stdout + run.stderr


def test_the_suite_imported_from_the_demo_description_runs_green_against_the_demo(
    demo_sut: str, tmp_path: Path
) -> None:
    token = httpx.post(
        f"{demo_sut}/auth/token", json={"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
    ).json()["access_token"]

    def customers() -> int:
        answer = httpx.get(f"{demo_sut}/customers", headers={"Authorization": f"Bearer {token}"})
        return int(answer.json()["total"])

    before = customers()
    out, verdicts, output = import_and_run(demo_sut, tmp_path)
    tests = sorted(path.name for path in out.iterdir() if path.name != "suite.yaml")
    assert len(verdicts) == len(tests) >= 30, output
    assert set(verdicts.values()) == {"PASSED"}, output
    for flow in ("item lifecycle: create, read, update, delete", "customer lifecycle: create, read, delete"):
        assert verdicts[flow] == "PASSED"
    assert customers() == before  # what the plans and the flows created was deleted after the runs


def test_the_contract_checks_fail_where_a_variant_deviates_from_its_description(
    broken_sut: str, tmp_path: Path
) -> None:
    _, verdicts, output = import_and_run(broken_sut, tmp_path)
    failed = {name for name, status in verdicts.items() if status != "PASSED"}
    assert failed == {
        "getItem: GET /items/{item_id}",  # a price that is text
        "item lifecycle: create, read, update, delete",
        "health: GET /health",  # text/plain
        "redirect: GET /redirect",  # redirects to /health
        "createCustomer: POST /customers",  # 200 instead of 201
        "customer lifecycle: create, read, delete",
    }, output
    assert {verdicts[name] for name in failed} == {"FAILED"}
    said = " ".join(output.split())
    assert "schema: $.price: 'cheap' is not of type 'number'" in said
    assert "header Content-Type: expected to contain 'application/json', got 'text/plain" in said
    assert "status: expected 201, got 200" in said


def description(demo_sut: str) -> dict[str, object]:
    document: dict[str, object] = httpx.get(f"{demo_sut}/openapi.json").json()
    return document


def test_a_reimport_updates_generated_files_and_leaves_edited_ones_alone(
    demo_sut: str, tmp_path: Path
) -> None:
    spec, out, data_dir = tmp_path / "shop.json", tmp_path / "shop", tmp_path / "data"
    document = description(demo_sut)
    spec.write_text(json.dumps(document))
    first = orchestra("import", "openapi", str(spec), "-o", str(out), data_dir=data_dir)
    assert first.returncode == 0, first.stdout + first.stderr
    edited = out / "get-item.yaml"
    edited_text = edited.read_text().replace("status: 200", "status: [200, 203]")
    edited.write_text(edited_text)
    mine = out / "my-own.yaml"
    mine.write_text("name: mine\nsteps:\n  - request: {url: /health}\n")

    paths = document["paths"]
    assert isinstance(paths, dict)
    del paths["/slow"]
    paths["/items/{item_id}"]["get"]["summary"] = "Read one item"
    paths["/items"]["get"]["summary"] = "List the items"
    spec.write_text(json.dumps(document))
    again = orchestra("import", "openapi", str(spec), "-o", str(out), data_dir=data_dir)
    assert again.returncode == 0, again.stdout + again.stderr
    said = " ".join(again.stdout.split())
    assert f"kept {edited}: edited since it was generated (--overwrite replaces it)" in said
    assert f"updated {out / 'list-items.yaml'}" in said
    assert f"removed {out / 'slow.yaml'}: generated for an operation no longer in the description" in said
    assert edited.read_text() == edited_text
    assert "description: List the items" in (out / "list-items.yaml").read_text()
    assert not (out / "slow.yaml").exists()
    assert mine.exists()

    forced = orchestra("import", "openapi", str(spec), "-o", str(out), "--overwrite", data_dir=data_dir)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "description: Read one item" in edited.read_text()


SWAGGER_DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "openapi" / "demo-shop.swagger2.json"


def test_a_swagger_2_description_of_the_demo_is_converted_and_its_suite_runs_green(
    demo_sut: str, tmp_path: Path
) -> None:
    host = demo_sut.removeprefix("http://")
    spec, out, data_dir = tmp_path / "shop.swagger2.json", tmp_path / "shop", tmp_path / "data"
    spec.write_text(SWAGGER_DEMO.read_text().replace("127.0.0.1:8000", host))  # its host is the demo's
    imported = orchestra(
        "import", "openapi", str(spec), "-o", str(out), "--env", "swagger", data_dir=data_dir
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    said = " ".join(imported.stdout.split())
    assert "secrets the tests read (never written into them): username (sent to the log-in issueToken" in said
    report = tmp_path / "report.json"
    run = orchestra(
        "run", str(out), "--env", "swagger", *CREDENTIALS, "--json", str(report), data_dir=data_dir
    )
    verdicts = statuses(report)
    assert sorted(verdicts) == [
        "createItem: POST /items",
        "deleteItem: DELETE /items/{item_id}",
        "getItem: GET /items/{item_id}",
        "health: GET /health",
        "issueToken: POST /auth/token",
        "item lifecycle: create, read, update, delete",
        "listItems: GET /items",
        "replaceItem: PUT /items/{item_id}",
        "updateItem: PATCH /items/{item_id}",
    ], run.stdout + run.stderr
    assert set(verdicts.values()) == {"PASSED"}, run.stdout + run.stderr


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"swagger": "1.2", "paths": {}}', "this is a Swagger 1.2 description: Swagger 2.0 is converted"),
        (
            '{"swagger": "2.0", "paths": {"/a": {"get": {"responses": []}}}}',
            "paths/~1a/get/responses must be",
        ),
        ('{"openapi": "3.1.0", "paths": {', "not valid JSON"),
        ("openapi: 3.1.0\npaths: [\n", "not valid JSON or YAML"),
        ('{"openapi": "4.0.0", "paths": {}}', "OpenAPI 3.x required, this is version '4.0.0'"),
        ("[" * 5000 + "]" * 5000, "nests deeper than"),
        ("{" + " " * 6_000_000 + "}", "is larger than 5 MiB"),
    ],
)
def test_a_description_that_cannot_be_imported_exits_2_and_writes_nothing(
    tmp_path: Path, content: str, needle: str
) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(content)
    refused = orchestra("import", "openapi", str(spec), "-o", str(tmp_path / "none"), data_dir=tmp_path / "d")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert needle in " ".join(refused.stderr.split())
    assert not (tmp_path / "none").exists()


def test_an_unreachable_description_url_exits_2(tmp_path: Path) -> None:
    refused = orchestra(
        "import", "openapi", f"{refused_url()}/openapi.json", "-o", str(tmp_path / "none"), data_dir=tmp_path
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "/openapi.json failed" in " ".join(refused.stderr.split())
    assert not (tmp_path / "none").exists()
