"""A Postman environment's secret value, run with `orchestra run collection.json`: scripts read it as newman
gives it, the SUT gets it, and nothing stored or reported holds it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import orchestra

SECRET = "s3cr3t-Token-4711xyz"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def _script(listen: str, *lines: str) -> dict[str, object]:
    return {"listen": listen, "script": {"exec": list(lines)}}


def _files_holding(folder: Path, text: bytes) -> list[str]:
    return [str(path) for path in folder.rglob("*") if path.is_file() and text in path.read_bytes()]


def test_scripts_read_a_secret_environment_value_that_no_report_or_stored_row_holds(
    demo_sut: str, tmp_path: Path
) -> None:
    collection = {
        "info": {"name": "secret token", "schema": SCHEMA},
        "item": [
            {
                "name": "send the token",
                "event": [
                    _script(
                        "prerequest",
                        "const token = pm.environment.get('token');",
                        "console.log('token', token);",
                        "pm.environment.set('auth_header', 'Token ' + token);",
                    ),
                    _script(
                        "test",
                        "const seen = pm.response.json().headers;",
                        "pm.test('the SUT got the token ' + pm.variables.get('token'), () => {",
                        "  pm.expect(seen['x-token']).to.eql('Token ' + pm.environment.get('token'));",
                        "  pm.expect(seen['x-template']).to.eql(pm.variables.get('token'));",
                        "});",
                        "pm.test('the secret is what the environment file gives', () => {",
                        "  const reversed = pm.environment.get('token').split('').reverse().join('');",
                        f"  pm.expect(reversed).to.eql('{SECRET[::-1]}');",  # the definition holds no secret
                        "});",
                    ),
                ],
                "request": {
                    "method": "GET",
                    "url": "{{base-url}}/echo",
                    "header": [
                        {"key": "X-Token", "value": "{{auth_header}}"},
                        {"key": "X-Template", "value": "{{token}}"},
                    ],
                },
            }
        ],
    }
    environment = {
        "name": "demo",
        "values": [
            {"key": "base-url", "value": demo_sut, "enabled": True},
            {"key": "token", "value": SECRET, "type": "secret", "enabled": True},
        ],
    }
    collection_file = tmp_path / "c.postman_collection.json"
    env_file = tmp_path / "e.postman_environment.json"
    collection_file.write_text(json.dumps(collection))
    env_file.write_text(json.dumps(environment))
    data_dir, report = tmp_path / "data", tmp_path / "report.json"

    run = orchestra(
        "run", str(collection_file), "-e", str(env_file), "--json", str(report), data_dir=data_dir
    )

    assert run.returncode == 0, run.stdout + run.stderr
    document = report.read_text()
    assert "the SUT got the token ********" in document  # the test's name, masked
    assert "the secret is what the environment file gives" in document
    assert "Token ********" in document  # the variable the script set from it, and the echoed header
    assert SECRET not in document
    assert SECRET not in run.stdout + run.stderr
    assert _files_holding(data_dir, SECRET.encode()) == []  # the database's files and the logs
