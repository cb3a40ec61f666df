"""Test cases and suites as YAML files through the API: the editor's save with line/column problems and its
guard against overwriting someone's change, downloads that read back the same, uploads of files, the
latest run in the list, and who the caller is."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orchestra.definitions.loader import parse_document
from tests.integration.conftest import assert_problem

PROJECT = "yaml-shop"
CASE = """\
name: items-list
description: |
  lists the items
  of the shop
tags: [items, smoke]
steps:
  - name: list
    request:
      method: GET
      url: "{{ env.base_url }}/items"
    expect:
      status: 200
      json:
        $.flag: "0o17"
"""


def yaml_url(name: str, project: str = PROJECT) -> str:
    return f"/projects/{project}/test-cases/{name}/yaml"


@pytest.fixture
async def project(api: httpx.AsyncClient) -> str:
    response = await api.post("/projects", json={"name": PROJECT})
    assert response.status_code == 201, response.text
    return PROJECT


async def put_yaml(api: httpx.AsyncClient, name: str, content: str, **extra: Any) -> httpx.Response:
    return await api.put(yaml_url(name), json={"content": content, **extra})


async def test_save_from_yaml_creates_then_adds_versions(api: httpx.AsyncClient, project: str) -> None:
    created = await put_yaml(api, "items-list", CASE, base_version=0)
    assert created.status_code == 201, created.text
    assert created.json()["result"] == "created"
    assert created.json()["version"] == 1
    assert created.json()["definition"]["steps"][0]["expect"]["json"] == {"$.flag": "0o17"}

    again = await put_yaml(api, "items-list", CASE, base_version=1)
    assert again.status_code == 200
    assert again.json()["result"] == "unchanged"

    changed = await put_yaml(api, "items-list", CASE.replace("status: 200", "status: 201"), base_version=1)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["result"], changed.json()["version"]) == ("updated", 2)


async def test_save_refuses_a_stale_base_version_and_keeps_the_newer_one(
    api: httpx.AsyncClient, project: str
) -> None:
    await put_yaml(api, "items-list", CASE)
    await put_yaml(api, "items-list", CASE.replace("status: 200", "status: 201"))  # someone else: version 2
    stale = await put_yaml(api, "items-list", CASE.replace("status: 200", "status: 204"), base_version=1)
    problem = assert_problem(stale, 409, "changed since version 1: it is at version 2")
    assert "open that version" in problem["detail"]
    current = (await api.get(f"/projects/{project}/test-cases/items-list")).json()
    assert current["current_version"] == 2
    assert current["definition"]["steps"][0]["expect"]["status"] == 201

    exists = await put_yaml(api, "items-list", CASE, base_version=0)
    assert_problem(exists, 409, "already exists")
    missing = await put_yaml(api, "other", CASE.replace("items-list", "other"), base_version=3)
    assert_problem(missing, 404, "does not exist")
    assert (await api.get(f"/projects/{project}/test-cases/other")).status_code == 404


@pytest.mark.parametrize(
    ("content", "line", "column", "needle"),
    [
        ("name: items-list\nsteps:\n  - request: {url: x}\n    expect: {statuz: 200}\n", 4, 14, "statuz"),
        ("name: items-list\nsteps: [\n", 3, 1, "expected"),
        ("name: items-list\nname: again\nsteps: []\n", 2, 1, "duplicate key 'name'"),
        ("name: items-list\nsteps: []\n", 2, 8, "at least 1 item"),
        ("name: other\nsteps:\n  - request: {url: x}\n", 1, 7, "cannot be renamed"),
        ("suite: items-list\ntests: ['*']\n", 1, 1, "this is a suite"),
        ("just: a mapping\n", 1, 1, "neither a test case nor a suite"),
        ("", 1, 1, "the file is empty"),
        ("- a list\n", 1, 1, "not a list"),
        ("name: &a items-list\nsteps: *a\n", 2, 8, "aliases are not allowed"),
    ],
)
async def test_save_names_the_line_and_column_of_each_problem(
    api: httpx.AsyncClient, project: str, content: str, line: int, column: int, needle: str
) -> None:
    response = await put_yaml(api, "items-list", content)
    problem = assert_problem(response, 422)
    assert any(
        error["line"] == line and error["column"] == column and needle in error["message"]
        for error in problem["errors"]
    ), problem
    assert (await api.get(f"/projects/{project}/test-cases/items-list")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"content": 12},
        {"content": CASE, "base_version": -1},
        {"content": CASE, "base_version": "one"},
        {"content": CASE, "extra": True},
        {"content": "x" * (1024 * 1024 + 1)},
    ],
)
async def test_save_refuses_malformed_requests(
    api: httpx.AsyncClient, project: str, body: dict[str, Any]
) -> None:
    response = await api.put(yaml_url("items-list"), json=body)
    assert response.status_code in (413, 422), response.text
    assert (await api.get(f"/projects/{project}/test-cases/items-list")).status_code == 404


async def test_save_in_a_missing_project_is_not_found(api: httpx.AsyncClient) -> None:
    assert_problem(await put_yaml(api, "items-list", CASE), 404, "project")


async def test_download_reads_back_to_the_same_definition(api: httpx.AsyncClient, project: str) -> None:
    await put_yaml(api, "items-list", CASE)
    await put_yaml(api, "items-list", CASE.replace("status: 200", "status: 201"))
    current = await api.get(yaml_url("items-list"))
    assert current.status_code == 200
    assert current.headers["content-type"].startswith("application/yaml")
    assert current.headers["content-disposition"] == 'attachment; filename="items-list.yaml"'
    text = current.text
    # The language's order of keys, a literal block for text with line breaks, quotes where YAML 1.2
    # would read a number.
    assert text.index("name:") < text.index("description:") < text.index("tags:") < text.index("steps:")
    assert "description: |\n  lists the items\n  of the shop\n" in text
    assert "$.flag: '0o17'" in text
    stored = (await api.get(f"/projects/{project}/test-cases/items-list")).json()["definition"]
    definition = parse_document(text, "items-list.yaml")
    assert definition is not None
    assert definition.model_dump(mode="json", by_alias=True, exclude_unset=True) == stored

    first = await api.get(yaml_url("items-list"), params={"version": 1})
    assert "status: 200" in first.text
    assert "status: 201" in text
    assert (await put_yaml(api, "items-list", text, base_version=2)).json()["result"] == "unchanged"


@pytest.mark.parametrize(
    ("params", "status"), [({"version": 3}, 404), ({"version": 0}, 422), ({"version": "x"}, 422)]
)
async def test_download_of_a_missing_or_bad_version_is_refused(
    api: httpx.AsyncClient, project: str, params: dict[str, Any], status: int
) -> None:
    await put_yaml(api, "items-list", CASE)
    assert_problem(await api.get(yaml_url("items-list"), params=params), status)
    assert_problem(await api.get(yaml_url("nothing")), 404, "nothing")


async def test_download_names_the_file_safely(api: httpx.AsyncClient, project: str) -> None:
    name = 'odd "name" ü/ok'
    response = await api.post(
        f"/projects/{project}/test-cases", json={"name": name, "steps": [{"request": {"url": "x"}}]}
    )
    assert response.status_code == 201, response.text
    download = await api.get(f"/projects/{project}/test-cases/{response.json()['id']}/yaml")
    assert download.headers["content-disposition"] == 'attachment; filename="odd-name-ok.yaml"'
    assert 'name: odd "name" ü/ok' in download.text or "name: 'odd \"name\" ü/ok'" in download.text


SUITE = "suite: smoke\ndescription: the quick ones\ntests:\n  - items-list\n"


def files(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"files": [{"name": name, "content": content} for name, content in pairs]}


async def test_apply_files_stores_test_cases_then_suites(api: httpx.AsyncClient) -> None:
    # The suite comes first and lists the test case of the same upload; the project is created.
    response = await api.post(
        f"/projects/{PROJECT}/apply/files", json=files(("smoke.yaml", SUITE), ("items.yaml", CASE))
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["test_cases"] == [{"name": "items-list", "version": 1, "result": "created"}]
    assert body["suites"] == [{"name": "smoke", "result": "created"}]
    suite = await api.get(f"/projects/{PROJECT}/suites/smoke/yaml")
    assert suite.text == SUITE
    assert suite.headers["content-disposition"] == 'attachment; filename="smoke.yaml"'
    again = await api.post(f"/projects/{PROJECT}/apply/files", json=files(("items.yaml", CASE)))
    assert again.json()["test_cases"][0]["result"] == "unchanged"


async def test_apply_files_places_every_problem_and_stores_nothing(
    api: httpx.AsyncClient, project: str
) -> None:
    broken = CASE.replace("status: 200", "status: ok")
    suite = "suite: smoke\ntests:\n  - items-list\n  - nowhere\n"
    twice = CASE.replace("tags: [items, smoke]", "tags: [again]")
    response = await api.post(
        f"/projects/{project}/apply/files",
        json=files(("items.yaml", CASE), ("copy.yaml", twice), ("smoke.yaml", suite), ("bad.yaml", broken)),
    )
    problem = assert_problem(response, 422, "nothing was applied")
    # A broken file is reported alone first, as the command line does: its positions are certain.
    assert [(e["file"], e["line"], e["column"]) for e in problem["errors"]] == [("bad.yaml", 12, 15)]
    assert "bad.yaml:12:15" in problem["detail"]

    response = await api.post(
        f"/projects/{project}/apply/files",
        json=files(("items.yaml", CASE), ("copy.yaml", twice), ("smoke.yaml", suite)),
    )
    problem = assert_problem(response, 422)
    places = {(e["file"], e["path"], e["line"], e["column"]) for e in problem["errors"]}
    assert places == {("copy.yaml", "name", 1, 7), ("smoke.yaml", "tests[1]", 4, 5)}, problem
    listed = (await api.get(f"/projects/{project}/test-cases")).json()
    assert listed["total"] == 0


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"files": []}, "at least 1"),
        (files(("a.yaml", CASE), ("a.yaml", CASE)), "given more than once: a.yaml"),
        (files(("", CASE)), "at least 1 character"),
        ({"files": [{"name": "a.yaml"}]}, "content"),
        ({"files": [{"name": "a.yaml", "content": CASE, "mode": "x"}]}, "mode"),
        (files(("notes.yaml", "title: notes\n")), "not a test definition"),
        (files(("bin.yaml", "name: x\u0000\n")), "not allowed in YAML"),
    ],
)
async def test_apply_files_refuses_bad_requests(
    api: httpx.AsyncClient, project: str, body: dict[str, Any], needle: str
) -> None:
    response = await api.post(f"/projects/{project}/apply/files", json=body)
    problem = assert_problem(response, 422)
    assert needle in str(problem), problem


async def test_the_list_shows_each_test_cases_latest_run(api: httpx.AsyncClient, project: str) -> None:
    await put_yaml(api, "items-list", CASE)
    await put_yaml(api, "never-run", CASE.replace("items-list", "never-run"))
    environment = {"name": "staging", "base_url": "http://127.0.0.1:9"}
    assert (await api.post(f"/projects/{project}/environments", json=environment)).status_code == 201
    run_ids = []
    for _ in range(2):
        run = {"project": project, "environment": "staging", "test_case": "items-list"}
        created = await api.post("/runs", json=run)
        assert created.status_code == 201, created.text
        run_ids.append(created.json()["id"])
    listed = (await api.get(f"/projects/{project}/test-cases")).json()["items"]
    items = {item["name"]: item for item in listed}
    last = items["items-list"]["last_run"]
    assert last["id"] == run_ids[-1]
    assert (last["environment"], last["test_case_version"]) == ("staging", 1)
    assert last["status"] in {"PENDING", "QUEUED", "IN_PROGRESS", "ERROR", "FAILED"}
    assert items["never-run"]["last_run"] is None


async def test_me_says_who_the_caller_is(api: httpx.AsyncClient) -> None:
    response = await api.get("/me")
    assert response.status_code == 200
    me = response.json()
    assert (me["role"], me["kind"], me["platform_admin"], me["project_id"]) == (
        "admin",
        "local-admin",
        True,
        None,
    )
    anonymous = await api.get("/me", headers={"Authorization": ""})
    assert anonymous.status_code == 401
