"""Which token `orchestra run --server` sends, and what a refusal (401) says about it: the token (by its
listed prefix, never the secret), where it came from, and where the CLI looked."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from orchestra.auth import api_tokens
from orchestra.cli.admin_token import token_for
from orchestra.cli.backends import BackendError, RemoteBackend
from orchestra.config import Settings
from orchestra.definitions.projects import ProjectDefinitions

TOKEN = "orc_" + "1" * 32 + "_" + "abcdefgh" + "x" * 35


def settings_in(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)


def test_the_given_token_wins(tmp_path: Path) -> None:
    (tmp_path / "admin-token").write_text("orc_other\n")
    sent = token_for("http://127.0.0.1:8000", TOKEN, settings_in(tmp_path))
    assert sent.token == TOKEN
    assert sent.describe().startswith("sent the token of --token/ORCHESTRA_TOKEN (prefix abcdefgh); ")
    assert "x" * 35 not in sent.describe()


def test_a_local_server_gets_the_token_of_the_data_directory(tmp_path: Path) -> None:
    (tmp_path / "admin-token").write_text(TOKEN + "\n")
    for server in ("http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"):
        sent = token_for(server, None, settings_in(tmp_path))
        assert sent.token == TOKEN
        assert sent.describe().startswith(
            f"sent the local admin token of {tmp_path.resolve() / 'admin-token'} (prefix abcdefgh); "
            "if it is not this server's, pass --token (or ORCHESTRA_TOKEN), or point --data-dir "
            "(or ORCHESTRA_DATA_DIR) at the data directory"
        )


def test_no_token_says_where_it_looked(tmp_path: Path) -> None:
    sent = token_for("http://127.0.0.1:8000", None, settings_in(tmp_path / "nowhere"))
    assert sent.token is None
    assert sent.describe().startswith(
        "no token was sent (--token and ORCHESTRA_TOKEN are unset and "
        f"{(tmp_path / 'nowhere').resolve() / 'admin-token'} does not exist); pass --token"
    )


def test_the_local_admin_token_never_goes_to_another_machine(tmp_path: Path) -> None:
    (tmp_path / "admin-token").write_text(TOKEN + "\n")
    sent = token_for("https://orchestra.example.com", None, settings_in(tmp_path))
    assert sent.token is None
    assert "is read only for a server on this machine" in sent.describe()


async def test_a_refused_token_is_reported_with_its_source(tmp_path: Path) -> None:
    (tmp_path / "admin-token").write_text(TOKEN + "\n")
    sent = token_for("http://127.0.0.1:8000", None, settings_in(tmp_path))
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        problem = {"title": "Unauthorized", "status": 401, "detail": "API token revoked"}
        return httpx.Response(401, json=problem, headers={"content-type": "application/problem+json"})

    backend = RemoteBackend("http://127.0.0.1:8000", sent.token, sent.describe())
    real = backend.client  # the same headers, through a transport that answers here
    backend.client = httpx.AsyncClient(
        transport=httpx.MockTransport(answer), base_url=real.base_url, headers=real.headers
    )
    await real.aclose()
    try:
        with pytest.raises(BackendError) as raised:
            await backend.apply([ProjectDefinitions("demo")])
    finally:
        await backend.close()
    assert seen == [f"Bearer {TOKEN}"]
    message = str(raised.value)
    assert message.startswith(
        "HTTP 401: API token revoked — sent the local admin token of "
        f"{tmp_path.resolve() / 'admin-token'} (prefix {api_tokens.display_prefix(TOKEN)})"
    )
    assert "\n" not in message
