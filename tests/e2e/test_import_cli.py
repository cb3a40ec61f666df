"""End to end: requests captured elsewhere (curl commands, a HAR file) imported with `orchestra import`, the
secrets found stored in an environment, and the tests written then run against the real demo SUT."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from orchestra.demo.sut_store import DEMO_PASSWORD, DEMO_USERNAME
from tests.e2e.conftest import orchestra

pytestmark = pytest.mark.e2e


def demo_token(demo_sut: str) -> str:
    answer = httpx.post(f"{demo_sut}/auth/token", json={"username": DEMO_USERNAME, "password": DEMO_PASSWORD})
    return str(answer.json()["access_token"])


def test_imported_curl_commands_run_green_with_their_secrets_in_the_environment(
    demo_sut: str, tmp_path: Path
) -> None:
    token = demo_token(demo_sut)
    commands = tmp_path / "commands.sh"
    commands.write_text(
        f"curl -s {demo_sut}/health\n\n"
        f"curl -X POST {demo_sut}/auth/token -H 'Content-Type: application/json' \\\n"
        f'  -d \'{{"username": "{DEMO_USERNAME}", "password": "{DEMO_PASSWORD}"}}\'\n'
        f"curl -H 'Authorization: Bearer {token}' '{demo_sut}/items?limit=5'\n"
    )
    out, data_dir = tmp_path / "imported", tmp_path / "data"
    result = orchestra(
        "import", "curl", "--file", str(commands), "-o", str(out), "--keep-credentials",
        "--env", "demo", data_dir=data_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "secrets stored in environment imported/demo: authorization (header Authorization)" in result.stdout
    )
    written = sorted(path.name for path in out.iterdir())
    assert written == ["get-health.yaml", "get-items.yaml", "post-auth-token.yaml"]
    assert all(token not in path.read_text() for path in out.iterdir())

    run = orchestra("run", str(out), "--env", "demo", data_dir=data_dir)  # the folder names the project
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 tests: 3 passed" in run.stdout, run.stdout

    again = orchestra("import", "curl", "--file", str(commands), "-o", str(out), data_dir=data_dir)
    assert again.returncode == 2
    assert "already exist(s)" in again.stderr


def test_an_imported_curl_form_upload_reaches_the_sut_byte_for_byte_and_a_file_outside_is_refused(
    demo_sut: str, tmp_path: Path
) -> None:
    work, out, data_dir = tmp_path / "work", tmp_path / "work" / "imported", tmp_path / "data"
    work.mkdir()
    (work / "report.csv").write_text("id,name\n1,first\n")
    (tmp_path / "private.csv").write_text("not for the test\n")
    command = f"curl -F note=quarterly -F 'report=@report.csv;type=text/csv' {demo_sut}/echo"

    result = orchestra("import", "curl", command, "-o", str(out), data_dir=data_dir, cwd=work)

    assert result.returncode == 0, result.stdout + result.stderr
    (written,) = out.iterdir()
    definition = written.read_text()
    assert "multipart:" in definition
    assert "content_base64:" in definition
    text_part = 'name="note"\r\n\r\nquarterly\r\n'
    file_part = 'filename="report.csv"\r\nContent-Type: text/csv\r\n\r\nid,name\n1,first\n\r\n'
    checks = (
        "      json:\n"
        f"        - {{path: $.body, contains: {json.dumps(text_part)}, name: the text field}}\n"
        f"        - {{path: $.body, contains: {json.dumps(file_part)}, name: the file part}}\n"
    )
    written.write_text(definition.replace("      status: 2xx\n", "      status: 2xx\n" + checks))
    report = tmp_path / "report.json"
    run = orchestra("run", str(written), "--base-url", demo_sut, "--json", str(report), data_dir=data_dir)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the file part" in report.read_text()

    outside = command.replace("@report.csv", "@../private.csv")
    refused = orchestra("import", "curl", outside, "-o", str(tmp_path / "no"), data_dir=data_dir, cwd=work)
    assert refused.returncode == 2
    assert "is outside the working directory" in refused.stderr
    assert not (tmp_path / "no").exists()


def test_an_imported_har_session_runs_green_and_a_hostile_one_is_refused(
    demo_sut: str, tmp_path: Path
) -> None:
    token = demo_token(demo_sut)
    entries = [
        {
            "request": {"method": "GET", "url": f"{demo_sut}/health", "headers": []},
            "response": {"status": 200, "content": {"mimeType": "application/json"}},
        },
        {
            "request": {"method": "GET", "url": f"{demo_sut}/favicon.ico", "headers": []},
            "response": {"status": 200, "content": {"mimeType": "image/x-icon"}},
        },
        {
            "request": {
                "method": "GET",
                "url": f"{demo_sut}/items",
                "headers": [{"name": "Authorization", "value": f"Bearer {token}"}],
            },
            "response": {"status": 200, "content": {"mimeType": "application/json"}},
        },
        {
            "request": {"method": "GET", "url": f"{demo_sut}/items", "headers": []},
            "response": {"status": 401, "content": {"mimeType": "application/problem+json"}},
        },
    ]
    har = tmp_path / "browsing.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    out, data_dir = tmp_path / "from-har", tmp_path / "data"
    result = orchestra(
        "import", "har", str(har), "-o", str(out), "--keep-credentials", "--env", "demo", data_dir=data_dir
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "note: 1 static or non-http entries were left out" in result.stdout
    run = orchestra("run", str(out / "browsing.yaml"), "--env", "demo", data_dir=data_dir)
    assert run.returncode == 0, run.stdout + run.stderr

    hostile = tmp_path / "hostile.har"
    hostile.write_text("[" * 10_000 + "]" * 10_000)
    refused = orchestra("import", "har", str(hostile), "-o", str(tmp_path / "none"), data_dir=data_dir)
    assert refused.returncode == 2
    assert "nests deeper than 64 levels" in refused.stderr
    assert not (tmp_path / "none").exists()


def test_an_imported_postman_collection_runs_green_against_the_demo_sut(
    demo_sut: str, tmp_path: Path
) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "postman"
    environment = json.loads((fixtures / "shop.postman_environment.json").read_text())
    environment["values"].append({"key": "base-url", "value": demo_sut, "enabled": True})
    env_file = tmp_path / "demo.postman_environment.json"
    env_file.write_text(json.dumps(environment))
    out, data_dir = tmp_path / "shop", tmp_path / "data"
    result = orchestra(
        "import", "postman", str(fixtures / "shop.postman_collection.json"), "-e", str(env_file),
        "-o", str(out), "--env", "demo", data_dir=data_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "secrets stored in environment shop/demo: password (environment value password)" in result.stdout
    assert "1 request(s) keep a test script as JavaScript" in result.stdout
    assert DEMO_PASSWORD not in (out / "demo-shop.yaml").read_text()

    run = orchestra("run", str(out), "--env", "demo", data_dir=data_dir)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 tests: 1 passed" in run.stdout, run.stdout

    refused = orchestra(
        "import", "postman", str(env_file), "-o", str(tmp_path / "none"), data_dir=data_dir
    )  # an environment given as the collection
    assert refused.returncode == 2
    assert "not a Postman collection: it has no 'info' (it looks like an environment" in refused.stderr
    assert not (tmp_path / "none").exists()


def test_kept_postman_scripts_run_their_named_tests_and_a_throwing_one_errors_with_its_line(
    demo_sut: str, tmp_path: Path
) -> None:
    def item(name: str, script: str) -> dict[str, object]:
        return {
            "name": name,
            "event": [{"listen": "test", "script": {"exec": script.split("\n")}}],
            "request": {"method": "GET", "url": f"{demo_sut}/health"},
        }

    collection = {
        "info": {
            "name": "scripts",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "item": [
            item("wrong status", "if (true) { pm.test('is 201', () => pm.response.to.have.status(201)); }"),
            item("throws", "pm.test('before', () => {});\nundefinedFunction();"),
        ],
    }
    file = tmp_path / "scripts.postman_collection.json"
    file.write_text(json.dumps(collection))
    out, data_dir = tmp_path / "scripts", tmp_path / "data"
    assert orchestra("import", "postman", str(file), "-o", str(out), data_dir=data_dir).returncode == 0
    run = orchestra("run", str(out), "--base-url", demo_sut, data_dir=data_dir)
    assert run.returncode == 1, run.stdout + run.stderr
    first_line = run.stdout.splitlines()[1]
    assert "test script: ReferenceError: undefinedFunction is not defined (line 2)" in first_line, run.stdout
    assert "[is 201] AssertionError: expected response to have" in run.stdout, run.stdout


def test_a_postman_collection_runs_as_it_is_like_newman_run(demo_sut: str, tmp_path: Path) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "postman"
    environment = json.loads((fixtures / "shop.postman_environment.json").read_text())
    environment["values"].append({"key": "base-url", "value": demo_sut, "enabled": True})
    env_file = tmp_path / "demo.postman_environment.json"
    env_file.write_text(json.dumps(environment))
    collection, data_dir = str(fixtures / "shop.postman_collection.json"), tmp_path / "data"
    junit = tmp_path / "report.xml"
    run = orchestra("run", collection, "-e", str(env_file), "--junit", str(junit), data_dir=data_dir)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 tests: 1 passed" in run.stdout, run.stdout
    assert f"on {demo_sut}" in run.stdout  # the base URL the environment file gives
    assert 'name="Demo shop"' in junit.read_text()

    only = orchestra(
        "run",
        collection,
        "-e",
        str(env_file),
        "--folder",
        "Bodies",
        "--json",
        str(tmp_path / "r.json"),
        data_dir=data_dir,
    )
    assert only.returncode == 0, only.stdout + only.stderr
    result = json.loads((tmp_path / "r.json").read_text())
    assert "Bodies / form" in json.dumps(result)
    assert "Items / create item" not in json.dumps(result)

    unknown = orchestra("run", collection, "--folder", "Nope", data_dir=data_dir)
    assert unknown.returncode == 2
    assert "the collection has no folder named 'Nope'" in unknown.stderr
