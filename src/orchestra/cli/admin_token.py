"""The local admin token at the CLI: announced once by a starting server, printed or replaced by
`orchestra admin-token`, read back for local servers."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from rich.console import Console

from orchestra.auth import api_tokens
from orchestra.auth.local_admin import ensure_local_admin_token, local_admin_token, read_token, token_file
from orchestra.config import Settings
from orchestra.db import open_database
from orchestra.kit.secret_box import open_context_key
from orchestra.migrate import migrate_database, require_head
from orchestra.runtime import Runtime
from orchestra.tenants.repository import ensure_tenant


async def announce(runtime: Runtime, settings: Settings, console: Console) -> None:
    """Make sure the database has a local admin token; print it when it was just created (the only time)."""
    path = token_file(settings.data_dir).resolve()
    state = await ensure_local_admin_token(runtime.db, runtime.tenant_id, settings.data_dir)
    if state.issued:
        console.print(f"Local admin token (shown once; kept for you in {path}, mode 0600):")
        console.print(f"  [bold]{state.token}[/]", soft_wrap=True)  # never broken across lines: it is copied
        console.print("Send it as 'Authorization: Bearer <token>'; the CLI reads the file by itself.")
    elif state.token is not None:
        console.print(f"API access: the local admin token in {path}")
    else:
        console.print(
            "API access: the local admin token that another server of this database issued (it printed it "
            "once and keeps it in its data directory's admin-token); `orchestra admin-token` prints or "
            "replaces it"
        )


async def print_admin_token(settings: Settings, renew: bool, out: Console, err: Console) -> int:
    """`orchestra admin-token`: the token alone on stdout (for `$(…)`), what happened on stderr."""
    context_key = open_context_key(settings)
    db = open_database(settings, context_key, pool_size=1)
    try:
        if db.embedded is not None:
            await migrate_database(
                db.owner_url,
                context_key=context_key,
                replace_context_key=True,
                app_password=db.app_password,
                label=db.owner_label,
            )
        else:
            await require_head(db.engine, db.label)
        await db.check_role()
        async with db.transaction(None) as session:
            tenant_id = await ensure_tenant(session, settings.tenant)
        state = await local_admin_token(db, tenant_id, settings.data_dir, renew=renew)
    finally:
        await db.close()
    path = token_file(settings.data_dir).resolve()
    if state.issued:
        previous = "; the previous one is revoked" if state.replaced else ""
        err.print(
            f"New local admin token of tenant '{settings.tenant}', accepted by every server of this "
            f"database{previous}; kept in {path} (mode 0600)"
        )
    else:
        err.print(f"The local admin token kept in {path} (valid on every server of this database)")
    out.print(state.token, soft_wrap=True, markup=False, highlight=False)
    return 0


def _is_local(server: str) -> bool:
    host = (urlsplit(server).hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SentToken:
    """The token the CLI sends to a server, where it came from and what to do when the server refuses it
    (said with a 401)."""

    token: str | None
    source: str
    fix: str

    def describe(self) -> str:
        if self.token is None:
            return f"no token was sent ({self.source}); {self.fix}"
        shown = api_tokens.display_prefix(self.token) if api_tokens.looks_like_api_token(self.token) else ""
        return f"sent {self.source}" + (f" (prefix {shown})" if shown else "") + f"; {self.fix}"


_LOCAL_ADMIN = "`orchestra admin-token` prints the local admin token of a server's database"
_HOW = (
    "pass --token (or ORCHESTRA_TOKEN), or point --data-dir (or ORCHESTRA_DATA_DIR) at the data directory "
    f"of the server that keeps the local admin token; {_LOCAL_ADMIN}"
)


def token_for(server: str, token: str | None, settings: Settings) -> SentToken:
    """``--token``/ORCHESTRA_TOKEN when given; else, for a server on this machine, the local admin token
    of the data directory."""
    if token:
        return SentToken(token, "the token of --token/ORCHESTRA_TOKEN", _LOCAL_ADMIN)
    path = token_file(settings.data_dir).resolve()
    if not _is_local(server):
        return SentToken(
            None,
            f"--token and ORCHESTRA_TOKEN are unset, and the local admin token file ({path}) is read only "
            "for a server on this machine",
            _HOW,
        )
    found = read_token(settings.data_dir)
    if found is None:
        return SentToken(None, f"--token and ORCHESTRA_TOKEN are unset and {path} does not exist", _HOW)
    return SentToken(found, f"the local admin token of {path}", f"if it is not this server's, {_HOW}")
