"""`orchestra admin export/import` between two installations (two data directories, each with its own
embedded PostgreSQL): exported from a served one through `--server`, imported into an embedded one, again
(nothing changes), exported back identical; hostile or broken files refused with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.conftest import orchestra, start_up

pytestmark = pytest.mark.e2e

CASE = """\
name: health
tags: [smoke]
steps:
  - name: health answers
    request: { url: "{{ env.base_url }}/health", headers: { X-Token: "{{ secrets.api_token }}" } }
    expect: { status: 200 }
"""
SUITE = """\
suite: smoke
project: shop
tests: [health]
variables: { who: night }
"""
ENVIRONMENT = {
    "name": "staging",
    "base_url": "http://127.0.0.1:9/api",
    "variables": {"tenant": "acme", "limits": {"page": 20}},
    "secrets": {"api_token": "never-exported-3141", "db_password": "never-exported-2718"},
    "allowed_hosts": ["auth.example.com", "*.cdn.example.com"],
    "allow_private_network": True,
    "max_active_runs": 3,
    "max_requests_per_s": 7.5,
    "defaults": {"headers": {"X-Team": "qa"}, "timeout_ms": 4000},
}
SCHEDULE = {
    "name": "nightly",
    "suite": "smoke",
    "environment": "staging",
    "cron": "30 2 * * 1-5",
    "timezone": "Europe/Berlin",
    "variables": {"who": "cron"},
    "misfire_policy": "skip",
}


def without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "exported_at"}


def exported(path: Path) -> dict[str, Any]:
    text = path.read_text()
    data: dict[str, Any] = yaml.safe_load(text) if path.suffix == ".yaml" else json.loads(text)
    return data


@pytest.fixture
def installation_a(tmp_path: Path) -> Path:
    """A served installation with project shop: a test case, a suite, an environment with secrets, a
    schedule and a retention policy; its document exported through the API (`--server`) as YAML."""
    data_dir = tmp_path / "a"
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    (definitions / "health.yaml").write_text(CASE)
    (definitions / "smoke.yaml").write_text(SUITE)
    server = start_up(data_dir, tmp_path / "a.log", "--no-demo")
    try:
        token = (data_dir / "admin-token").read_text().strip()
        result = orchestra("apply", str(definitions), "--server", server.url, data_dir=data_dir)
        assert result.returncode == 0, result.stderr
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"{server.url}/api/v1", headers=headers) as api:
            for method, path, body in (
                ("POST", "/projects/shop/environments", ENVIRONMENT),
                ("POST", "/projects/shop/schedules", SCHEDULE),
                ("PUT", "/projects/shop/retention", {"keep_days": 30, "keep_last": 10}),
                ("PATCH", "/projects/shop", {"description": "the shop", "max_active_runs": 5}),
            ):
                response = api.request(method, path, json=body)
                assert response.status_code in (200, 201), response.text
        result = orchestra(
            "admin",
            "export",
            "shop",
            "-o",
            str(tmp_path / "shop.yaml"),
            "--server",
            server.url,
            data_dir=data_dir,
        )
        assert result.returncode == 0, result.stderr
        assert "1 test case(s), 1 suite(s), 1 environment(s), 1 schedule(s)" in " ".join(
            result.stdout.split()
        )
    finally:
        server.stop()
    return tmp_path / "shop.yaml"


@pytest.mark.timeout(600)
def test_a_project_moves_to_another_installation_and_back_unchanged(
    installation_a: Path, tmp_path: Path
) -> None:
    document = exported(installation_a)
    text = installation_a.read_text()
    assert "never-exported" not in text
    assert document["format"] == "orchestra.project"
    assert document["version"] == 1
    assert document["environments"][0]["secret_names"] == ["api_token", "db_password"]
    assert document["retention"] == {"keep_days": 30, "keep_last": 10}

    b = tmp_path / "b"
    result = orchestra("admin", "import", str(installation_a), data_dir=b)
    assert result.returncode == 0, result.stderr
    said = " ".join(result.stdout.split())
    for line in (
        "project shop: created",
        "environment staging: created",
        "test case health: created",
        "suite smoke: created",
        "schedule nightly: created",
        "secrets to set before running",
        "environment staging: api_token",
        "environment staging: db_password",
    ):
        assert line in said, result.stdout

    again = orchestra("admin", "import", str(installation_a), data_dir=b)  # idempotent
    assert again.returncode == 0, again.stderr
    said = " ".join(again.stdout.split())
    assert "project shop: updated" in said
    assert "test case health: unchanged" in said
    assert "suite smoke: unchanged" in said

    back = tmp_path / "back.json"
    result = orchestra("admin", "export", "shop", "-o", str(back), data_dir=b)
    assert result.returncode == 0, result.stderr
    # the same document, but for the secrets' names: no secret is set here yet
    returned = without_time(exported(back))
    assert returned["environments"][0].pop("secret_names") == []
    document["environments"][0].pop("secret_names")
    assert returned == without_time(document)

    result = orchestra("admin", "import", str(back), "--project", "shop-copy", data_dir=b)
    assert result.returncode == 0, result.stderr
    assert "project shop-copy: created" in result.stdout


def test_hostile_or_broken_documents_are_refused_with_exit_code_2(tmp_path: Path) -> None:
    good = {
        "format": "orchestra.project",
        "version": 1,
        "project": {"name": "shop"},
        "test_cases": [],
    }
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(12)
    )
    deep = '{"format": "orchestra.project", "x": ' + "[" * 5000 + "]" * 5000 + "}"
    cases: list[tuple[str, str | bytes, str]] = [
        ("broken.json", '{"format": "orchestra.project", ', "is not valid JSON"),
        ("big.json", json.dumps({**good, "pad": "x" * (3 * 1024 * 1024)}), "larger than 2 MiB"),
        ("laughs.yaml", laughs, "uses YAML aliases"),
        ("deep.json", deep, "nested deeper than"),
        ("binary.json", b"\xff\xfe\x00garbage", "is not UTF-8 text"),
        ("other.json", json.dumps({"openapi": "3.1.0"}), "is not an Orchestra project document"),
        ("future.json", json.dumps({**good, "version": 2}), "version"),
        (
            "secrets.json",
            json.dumps(
                {
                    **good,
                    "environments": [{"name": "e", "base_url": "http://x.example", "secrets": {"k": "v"}}],
                }
            ),
            "environments.0.secrets: Extra inputs are not permitted",
        ),
        (
            "hostile.json",
            json.dumps({**good, "environments": [{"name": "e", "base_url": "http://u:p@x.example"}]}),
            "base_url must not contain credentials",
        ),
        (
            "bad-case.json",
            json.dumps({**good, "test_cases": [{"name": "t", "steps": [{"request": {"method": "BREW"}}]}]}),
            "nothing was applied",
        ),
    ]
    data_dir = tmp_path / "data"
    for name, content, needle in cases:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        result = orchestra("admin", "import", str(path), data_dir=data_dir)
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        assert needle in " ".join(result.stderr.split()), (name, result.stderr)
    result = orchestra("admin", "import", str(tmp_path / "missing.json"), data_dir=data_dir)
    assert result.returncode == 2
    assert "cannot read" in result.stderr
    (tmp_path / "ok.json").write_text(json.dumps(good))
    result = orchestra("admin", "import", str(tmp_path / "ok.json"), "--project", "a/b", data_dir=data_dir)
    assert result.returncode == 2
    assert "--project 'a/b'" in result.stderr
    # nothing of the refused documents was stored: the project does not exist
    result = orchestra("admin", "export", "shop", "-o", str(tmp_path / "x.json"), data_dir=data_dir)
    assert result.returncode == 2
    assert "project 'shop' does not exist" in result.stderr
