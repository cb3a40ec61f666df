"""Secrets full of special characters stay masked through every transformation a template can apply.

Real runs against the demo SUT (a real process) use secrets such as ``Pa$$ w0rd/"q"&<x>+=Zz`` through
``| tojson``, ``| urlencode``, ``| upper`` and ``| lower`` (and ``| replace``, ``| reverse`` and a slice,
masked because they were derived from a secret), raw in a query string (which httpx normalises and
the SUT splits at ``&`` and ``=``), in a JSON body the SUT echoes inside its JSON answer, in a failed
expectation, in a step's cleanup URL (the data ledger), and in host names (lower-cased by httpx, IDNA-encoded
when not ASCII, refused by the egress policy with a reason that quotes the host). Then every row of every
table, the API's run and step JSON, the evidence and the explanation the ai-service gives (and the failure
document it keeps for RAG), the SSE streams, the JUnit and JSON files the CLI writes and the logs are
searched for each secret in every form it took, without regard to case.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import idna
import pytest
import structlog
from jinja2.utils import htmlsafe_json_dumps

from orchestra.cli.backends import LocalBackend
from orchestra.cli.runner import RunOptions, write_reports
from orchestra.kit.logging import configure as configure_logging
from orchestra.kit.masking import MASK
from orchestra.runtime import Runtime
from tests.integration.conftest import Harness
from tests.integration.test_assistant_api import ai_port, ai_service, settings
from tests.integration.test_secrets import database_rows, read_stream, wait_suite_run

__all__ = ["ai_port", "ai_service", "settings"]  # the ai-service the explanation comes from

NASTY = 'Pa$$ w0rd/"q"&<x>+=Zz'
UNICODE = "Gehëim-Wért-100%-ẞtraße"
HOST = "MyTenant-Secret7781"
IDNA_HOST = "Geheimnis-Überall"
SECRETS = {"nasty": NASTY, "uni": UNICODE, "host": HOST, "idna_host": IDNA_HOST}
# Parts of the secrets that nothing else holds: found in any case, they are a leak.
DISTINCTIVE = ["w0rd", "dr0w", "tenant-secret", "hëim", "h%c3%abim", "h\\u00ebim", "heimnis", "xn--geheimnis"]


def forms(secret: str) -> set[str]:
    """What the transformations of this test make of ``secret``, and of those once more as JSON."""
    made = {
        secret,
        secret.upper(),
        secret.lower(),
        str(htmlsafe_json_dumps(secret))[1:-1],
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe="/"),
        quote(secret, safe=""),
        quote_plus(secret),
        str(httpx.URL("http://h.test/", params={"q": secret})).split("q=", 1)[1],
        httpx.URL(f"http://h.test/?q={secret}").query.decode().split("q=", 1)[1],
    }
    if not secret.isascii() and "%" not in secret:  # a host name cannot hold a "%"
        made.add(idna.encode(secret.lower()).decode())
    return made | {json.dumps(form)[1:-1] for form in made}


# What templates derive in ways no decoding undoes (masked because they were derived from a secret).
DERIVED = [NASTY.replace("$", "S"), NASTY[::-1], UNICODE[3:]]
FORBIDDEN = sorted(
    {form.casefold() for secret in [*SECRETS.values(), *DERIVED] for form in forms(secret)} | set(DISTINCTIVE)
)


def assert_clean(where: str, artefact: str | bytes) -> None:
    content = artefact.decode("utf-8", errors="replace") if isinstance(artefact, bytes) else artefact
    folded = content.casefold()
    found = [form for form in FORBIDDEN if form in folded]
    if found:
        at = folded.index(found[0])
        pytest.fail(f"{where} holds {found}: …{content[max(0, at - 300) : at + 300]}…")


ENCODINGS: dict[str, Any] = {
    "name": "every encoding of a secret",
    "steps": [
        {
            "name": "echo every form",
            "request": {
                "method": "POST",
                "url": "{{ env.base_url }}/echo?q={{ secrets.nasty }}&u={{ secrets.uni }}",
                "headers": {
                    "X-Json": "{{ secrets.nasty | tojson }}",
                    "X-Url": "{{ secrets.uni | urlencode }}",
                    "X-Upper": "{{ secrets.nasty | upper | urlencode }}",
                },
                "json": {
                    "tojson": "{{ secrets.nasty | tojson }}",
                    "urlencoded": "{{ secrets.nasty | urlencode }}",
                    "upper": "{{ secrets.uni | upper }}",
                    "lower": "{{ secrets.nasty | lower }}",
                    "nested": "{{ {'pw': secrets.nasty, 'u': secrets.uni} | tojson }}",
                    "replaced": "{{ secrets.nasty | replace('$', 'S') }}",
                    "reversed": "{{ secrets.nasty | reverse }}",
                    "sliced": "{{ secrets.uni[3:] }}",
                },
            },
            "expect": {"status": 200},
            "capture": {"query": "$.query", "whole": {"body": True}},
            "cleanup": {"url": "/items/{{ secrets.nasty | urlencode }}?u={{ secrets.uni | upper }}"},
        },
        {"name": "derive", "set": {"derived": "{{ secrets.nasty | urlencode | upper }}"}},
        {
            "name": "a failure quotes it",
            "request": {
                "method": "POST",
                "url": "{{ env.base_url }}/echo",
                "json": {"again": "{{ secrets.nasty | tojson }}", "query": "{{ query }}"},
            },
            "expect": {"json": {"$.json.again": "wrong {{ secrets.nasty | tojson }} {{ derived }}"}},
        },
    ],
}
HOSTS: dict[str, Any] = {
    "name": "a secret in a host name",
    "steps": [{"name": "ascii host", "request": {"url": "http://{{ secrets.host }}.example.com/status"}}],
    "teardown": [{"name": "idna host", "request": {"url": "https://{{ secrets.idna_host }}.example.com/"}}],
}


async def test_every_encoding_of_a_secret_is_masked_everywhere_it_is_kept_or_shown(
    harness: Harness,
    runtime: Runtime,
    owner_database_url: str,
    ai_service: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = harness.api
    configured = await api.patch(f"/projects/{harness.project}/environments/sut", json={"secrets": SECRETS})
    assert configured.status_code == 200, configured.text
    logs = io.StringIO()
    saved = structlog.get_config()  # restored as it was: a stream bound now is closed after this test
    configure_logging("debug", json_lines=True, stream=logs)
    try:
        await harness.apply(ENCODINGS, HOSTS, suites=[{"suite": "encodings", "tests": [ENCODINGS["name"]]}])
        encodings = await harness.wait(await harness.start(ENCODINGS["name"]))
        hosts = await harness.wait(await harness.start(HOSTS["name"]))
        created = await api.post(
            "/suite-runs", json={"project": harness.project, "environment": "sut", "suite": "encodings"}
        )
        assert created.status_code == 201, created.text
        suite_run_id = created.json()["id"]
        await wait_suite_run(api, suite_run_id)
        explained = [await api.post(f"/runs/{run['id']}/explain") for run in (encodings, hosts)]
    finally:
        structlog.configure(**saved)

    # The runs did what they should: the SUT got every form, the records hold masks.
    assert encodings["status"] == "FAILED", encodings
    assert "a failure quotes it" in encodings["status_reason"]
    steps = {step["name"]: step for step in encodings["steps"]}
    echo = steps["echo every form"]
    assert echo["status"] == "passed"
    assert echo["request"]["url"].endswith(f"/echo?q={MASK}&u={MASK}"), echo["request"]["url"]
    assert echo["request"]["headers"]["x-json"] == f'"{MASK}"'
    assert echo["request"]["headers"]["x-url"] == MASK
    echoed = json.loads(echo["response"]["body"])
    assert echoed["json"]["tojson"] == f'"{MASK}"'
    for key in ("urlencoded", "upper", "lower", "replaced", "reversed", "sliced"):
        assert echoed["json"][key] == MASK, key
    assert MASK in echoed["query"]["q"]
    assert any(step["phase"] == "cleanup" for step in encodings["steps"])
    assert hosts["status"] == "ERROR", hosts
    assert f"'{MASK}.example.com' is not allowed" in hosts["status_reason"], hosts["status_reason"]
    host_steps = {step["name"]: step for step in hosts["steps"]}
    assert host_steps["idna host"]["status"] == "error"
    assert f"{MASK}.example.com" in host_steps["idna host"]["error"]
    for response in explained:
        assert response.status_code == 200, response.text

    # 1. Every row of every table: step results, run reasons, contexts, the ledger, the RAG failure documents.
    rows = await database_rows(owner_database_url)
    assert rows["rag_documents"], "the explanations were kept as failure documents"
    assert rows["data_ledger"], "the step cleanup was entered into the data ledger"
    for table, table_rows in rows.items():
        assert_clean(f"table {table}", "\n".join(table_rows))

    # 2. The API's run and step JSON, reports, evidence, explanations and event streams.
    run_ids = [encodings["id"], hosts["id"]]
    paths = [
        *(f"/runs/{run_id}" for run_id in run_ids),
        *(f"/runs/{run_id}/report?format={kind}" for run_id in run_ids for kind in ("junit", "json")),
        *(f"/tools/runs/{run_id}/evidence" for run_id in run_ids),
        f"/runs?project={harness.project}",
        f"/suite-runs/{suite_run_id}",
    ]
    for path in paths:
        response = await api.get(path)
        assert response.status_code == 200, (path, response.text)
        assert_clean(path, response.content)
    for response in explained:
        assert_clean("explanation", response.content)
    for path in (*(f"/runs/{run_id}/events" for run_id in run_ids), f"/suite-runs/{suite_run_id}/events"):
        stream = await read_stream(api, path)
        assert "event: end" in stream
        assert_clean(path, stream)

    # 3. The JUnit and JSON files the CLI writes.
    options = RunOptions(paths=[], junit=tmp_path / "junit.xml", json_path=tmp_path / "report.json")
    await write_reports(LocalBackend(runtime), [uuid.UUID(suite_run_id)], options)
    assert options.junit is not None
    assert options.json_path is not None
    assert MASK in options.junit.read_text()
    assert_clean("JUnit file", options.junit.read_bytes())
    assert_clean("JSON file", options.json_path.read_bytes())

    # 4. The logs written meanwhile.
    assert "run.finished" in logs.getvalue()
    assert_clean("structlog output", logs.getvalue())
    assert_clean("logging records", caplog.text)
