"""The local admin token at the CLI: announced once by a starting server, read back for local servers."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from rich.console import Console

from orchestra.auth.local_admin import ensure_local_admin_token, read_token, token_file
from orchestra.config import Settings
from orchestra.runtime import Runtime


async def announce(runtime: Runtime, settings: Settings, console: Console) -> None:
    """Make sure the local admin token exists; print it when it was just created (the only time)."""
    path = token_file(settings.data_dir)
    token = await ensure_local_admin_token(runtime.db, runtime.tenant_id, settings.data_dir)
    if token is not None:
        console.print(f"Local admin token (shown once; kept for you in {path}, mode 0600):")
        console.print(f"  [bold]{token}[/]", soft_wrap=True)  # never broken across lines: it is copied
        console.print("Send it as 'Authorization: Bearer <token>'; the CLI reads the file by itself.")
    else:
        console.print(f"API access: the local admin token in {path}")


def _is_local(server: str) -> bool:
    host = (urlsplit(server).hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_for(server: str, token: str | None, settings: Settings) -> str | None:
    """``--token``/ORCHESTRA_TOKEN when given; else, for a server on this machine, the local admin token
    of the data directory."""
    if token:
        return token
    return read_token(settings.data_dir) if _is_local(server) else None
