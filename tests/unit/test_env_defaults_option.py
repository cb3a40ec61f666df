"""`orchestra run --env-defaults FILE`: request defaults from YAML or JSON, written order kept; a file that is
missing, too big, malformed or invalid stops the command with the file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestra.cli.runner import read_env_defaults
from orchestra.cli.usage import UsageError


def test_yaml_and_json_files_give_the_defaults_as_written(tmp_path: Path) -> None:
    yaml_file = tmp_path / "defaults.yaml"
    yaml_file.write_text(
        "headers:\n  X-Zeta: 1\n  Accept: application/json\nquery: {lang: en}\n"
        "auth:\n  api_key: {name: X-Key, value: '{{ secrets.key }}'}\ntimeout_ms: 2500\n"
    )
    defaults = read_env_defaults(yaml_file)
    assert defaults == {
        "headers": {"X-Zeta": "1", "Accept": "application/json"},
        "query": {"lang": "en"},
        "auth": {"api_key": {"name": "X-Key", "value": "{{ secrets.key }}"}},
        "timeout_ms": 2500,
    }
    assert list(defaults["headers"]) == ["X-Zeta", "Accept"]
    json_file = tmp_path / "defaults.json"
    json_file.write_text('{"headers": {"B": "2", "A": "1"}}')
    assert list(read_env_defaults(json_file)["headers"]) == ["B", "A"]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "no such file"),
        ("", "request defaults must be a mapping"),
        ("- a\n- b\n", "request defaults must be a mapping"),
        ("headers: {a: 1\n", "defaults.yaml:2:1"),
        ("headres: {A: b}\n", "defaults.yaml:1:1: unknown key 'headres' (did you mean 'headers'?)"),
        ("timeout_ms: fast\n", "defaults.yaml:1:13: timeout_ms"),
        ("auth: {bearer: {token: a}, basic: {username: u, password: p}}\n", "exactly one"),
        ("a: &x 1\nb: *x\n", "aliases"),
        ("x" * (1024 * 1024 + 1), "larger than 1 MiB"),
    ],
)
def test_bad_files_are_refused_before_anything_runs(tmp_path: Path, content: str | None, said: str) -> None:
    path = tmp_path / "defaults.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError) as refused:
        read_env_defaults(path)
    assert str(refused.value).startswith("--env-defaults: ")
    assert said in str(refused.value)
