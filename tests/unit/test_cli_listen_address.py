"""The serving commands listen where the options say, else where ORCHESTRA_HOST / ORCHESTRA_PORT say."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from orchestra.cli import ai_service, distributed, up
from orchestra.cli.main import app
from orchestra.config import Settings

SERVERS = {"up": (up, "serve"), "api": (distributed, "serve_api"), "ai": (ai_service, "serve_ai")}


def listen_address(monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str]) -> tuple[str, int]:
    """Invoke the command with its server replaced by one that records the settings it was given."""
    for name in ("ORCHESTRA_HOST", "ORCHESTRA_PORT", "ORCHESTRA_AI_PORT"):
        monkeypatch.delenv(name, raising=False)
    seen: list[Settings] = []

    async def record(settings: Settings, *_: Any, **__: Any) -> None:
        seen.append(settings)

    module, attribute = SERVERS[args[0]]
    monkeypatch.setattr(module, attribute, record)
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    settings = seen[0]
    return settings.host, settings.ai_port if args[0] == "ai" else settings.port


@pytest.mark.parametrize("command", ["up", "api"])
def test_the_environment_sets_host_and_port(monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    env = {"ORCHESTRA_HOST": "0.0.0.0", "ORCHESTRA_PORT": "8123"}
    assert listen_address(monkeypatch, [command], env) == ("0.0.0.0", 8123)


@pytest.mark.parametrize("command", ["up", "api"])
def test_options_win_over_the_environment(monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    env = {"ORCHESTRA_HOST": "0.0.0.0", "ORCHESTRA_PORT": "8123"}
    args = [command, "--host", "127.0.0.2", "--port", "9001"]
    assert listen_address(monkeypatch, args, env) == ("127.0.0.2", 9001)


@pytest.mark.parametrize("command", ["up", "api"])
def test_without_either_the_defaults_hold(monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    assert listen_address(monkeypatch, [command], {}) == ("127.0.0.1", 8000)


def test_the_ai_service_reads_its_own_port(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"ORCHESTRA_HOST": "0.0.0.0", "ORCHESTRA_PORT": "8123", "ORCHESTRA_AI_PORT": "8124"}
    assert listen_address(monkeypatch, ["ai"], env) == ("0.0.0.0", 8124)
    assert listen_address(monkeypatch, ["ai", "--port", "9002"], env) == ("0.0.0.0", 9002)


@pytest.mark.parametrize("port", ["70000", "0", "http"])
def test_a_bad_port_option_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, port: str) -> None:
    monkeypatch.setattr(up, "serve", None)  # never reached
    result = CliRunner().invoke(app, ["up", "--port", port])
    assert result.exit_code == 2
    assert "--port" in result.output
