from __future__ import annotations

from pathlib import Path

import httpx

from orchestra.cli.backends import RemoteBackend
from orchestra.cli.runner import RunOptions, adhoc_environment_name, parse_variables, targets_of
from orchestra.definitions.loader import LoadedDefinitions
from orchestra.definitions.testcase_model import SuiteDefinition, TestCaseDefinition
from orchestra.kit.json_storage import jsonb_safe
from orchestra.kit.masking import MASK, Masker


def _loaded(*suites: SuiteDefinition) -> LoadedDefinitions:
    cases = [
        (Path(f"{name}.yaml"), TestCaseDefinition.model_validate({"name": name, "steps": [{"sleep": 1}]}))
        for name in ("a", "b", "c")
    ]
    return LoadedDefinitions(test_cases=cases, suites=[(Path("s.yaml"), suite) for suite in suites])


def test_tests_no_suite_covers_run_as_one_more_suite_run(tmp_path: Path) -> None:
    suite = SuiteDefinition.model_validate({"suite": "smoke", "tests": ["a"]})
    targets = targets_of(_loaded(suite), RunOptions(paths=[tmp_path]))
    assert targets == [("smoke", None, "smoke"), (None, ["b", "c"], f"{tmp_path.name} (not in a suite)")]


def test_a_star_suite_covers_everything(tmp_path: Path) -> None:
    suite = SuiteDefinition.model_validate({"suite": "all", "tests": ["*"]})
    assert targets_of(_loaded(suite), RunOptions(paths=[tmp_path])) == [("all", None, "all")]


def test_without_a_suite_all_tests_run_under_the_folder_name(tmp_path: Path) -> None:
    assert targets_of(_loaded(), RunOptions(paths=[tmp_path])) == [(None, ["a", "b", "c"], tmp_path.name)]


def test_adhoc_environment_names_are_per_url() -> None:
    assert adhoc_environment_name("http://127.0.0.1:8081") == "url-127.0.0.1-8081"
    assert adhoc_environment_name("https://api.example.com/v2/") == "url-api.example.com-v2"


def test_var_options_parse() -> None:
    assert parse_variables(["a=1", "b==x", "c="]) == {"a": "1", "b": "=x", "c": ""}


def test_masker_masks_plain_json_escaped_and_url_encoded_forms() -> None:
    masker = Masker(['p@ss w0rd!"', "ab"])
    assert masker.text('x=p@ss w0rd!" y') == f"x={MASK} y"
    assert masker.text("?pw=p%40ss+w0rd%21%22") == f"?pw={MASK}"
    assert masker.json_text('{"pw": "p@ss w0rd!\\""}') == f'{{"pw": "{MASK}"}}'
    assert masker.text("ab stays: too short to mask") == "ab stays: too short to mask"


def test_jsonb_safe_replaces_what_postgresql_refuses() -> None:
    value = {"a\x00": ["x\x00y", float("nan"), float("inf"), "\ud800", 1.5, None, True]}
    assert jsonb_safe(value) == {"a\ufffd": ["x\ufffdy", "nan", "inf", "?", 1.5, None, True]}


async def test_names_sent_to_a_server_stay_one_path_segment() -> None:
    """Whatever a project or environment name holds, the request goes to that resource of /projects."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"base_url": "http://sut"})

    backend = RemoteBackend("http://orchestra.test", None)
    await backend.close()
    backend.client = httpx.AsyncClient(
        base_url="http://orchestra.test/api/v1", transport=httpx.MockTransport(answer)
    )
    for project, environment in [("..", "tokens"), ("a/b", "e?x=1"), ("p q", "#frag"), (".", "..")]:
        await backend.environment_base_url(project, environment)
    await backend.close()
    assert seen == [
        "/api/v1/projects/%2E%2E/environments/tokens",
        "/api/v1/projects/a%2Fb/environments/e%3Fx%3D1",
        "/api/v1/projects/p%20q/environments/%23frag",
        "/api/v1/projects/%2E/environments/%2E%2E",
    ]
