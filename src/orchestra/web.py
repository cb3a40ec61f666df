"""The web application (the SPA built from ``web/``) served at ``/`` by the API process.

Hashed assets under ``/assets/`` are cached for a year; everything else that is not a file (a client-side
route such as ``/runs/<id>``) answers ``index.html``, never cached, so a new build is picked up at once.
Every answer carries a strict Content-Security-Policy: the SPA loads only its own files and talks only to
its own origin. ``/api/...`` is never answered with the SPA: an unknown API path stays a 404 problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException

SHIPPED = Path(__file__).resolve().parent / "web_dist"
ASSETS = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"


def content_security_policy(connect_to: Sequence[str] = ()) -> str:
    """The policy of every answer: the SPA's own files only; it talks to its own origin and to
    ``connect_to`` (the single sign-on issuer's origin, whose discovery and token endpoints it calls)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            " ".join(["connect-src 'self'", *connect_to]),
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(connect_to: Sequence[str] = ()) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(connect_to),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


def origin_of(url: str) -> str:
    """``https://kc.example.com`` of ``https://kc.example.com/realms/orchestra``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


NOT_BUILT = "the web application is not built into this installation: run `make web` in the source tree"


def leaves_folder(path: str) -> bool:
    """``..`` or ``.`` segments, a backslash or a NUL: a path no file of the build is reached by."""
    return "\x00" in path or "\\" in path or any(part in ("..", ".") for part in path.split("/"))


class _OutsideApi(Convertor[str]):
    """Any path but ``api`` and what lies below it: the API's paths never reach the application, so an
    unknown one keeps its 404 (or 405) problem."""

    regex = r"(?!api(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("outside_api", _OutsideApi())


class WebFiles:
    """The files of one build, resolved safely below its folder."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @property
    def built(self) -> bool:
        return (self.root / "index.html").is_file()

    def file(self, path: str) -> Path | None:
        """The file at ``path`` inside the build, or None; a path that would leave the folder is None."""
        if not path or leaves_folder(path):
            return None
        candidate = (self.root / path).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate


def install(app: FastAPI, root: Path | None = None, connect_to: Sequence[str] = ()) -> None:
    """Serve the build at ``root`` (default: the one shipped in the package) for GET and HEAD on every
    path the API's routes do not answer; ``connect_to``: origins the SPA may call besides its own. Call
    after the API's routers are included."""
    files = WebFiles(root or SHIPPED)
    headers = security_headers(connect_to)

    def _answer(file: Path, cache_control: str) -> Response:
        return FileResponse(file, headers={"Cache-Control": cache_control, **headers})

    async def serve(request: Request) -> Response:
        path = request.path_params["path"]
        if not files.built:
            raise HTTPException(404, NOT_BUILT)
        if leaves_folder(path):
            raise HTTPException(404, "Not Found")  # refused, never answered with the application
        found = files.file(path)
        if found is not None:
            return _answer(found, IMMUTABLE if path.startswith(ASSETS) else "no-cache")
        if path.startswith(ASSETS):
            raise HTTPException(404, "Not Found")  # a missing asset is not a page: no index.html for it
        return _answer(files.root / "index.html", "no-cache")

    app.add_route("/{path:outside_api}", serve, methods=["GET", "HEAD"], include_in_schema=False)
