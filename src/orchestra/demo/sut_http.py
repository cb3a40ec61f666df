"""HTTP plumbing shared by the demo SUT's routers: state lookup, problem responses, bearer auth."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse

from orchestra.demo.sut_store import ShopState

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemError(Exception):
    """Answered as an RFC 9457 problem document (``application/problem+json``)."""

    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}


def problem_response(error: ProblemError) -> JSONResponse:
    body = {"type": "about:blank", "title": error.title, "status": error.status, "detail": error.detail}
    return JSONResponse(body, status_code=error.status, headers=error.headers, media_type=PROBLEM_MEDIA_TYPE)


async def shop_state(request: Request) -> ShopState:
    state = request.app.state.shop
    if not isinstance(state, ShopState):  # pragma: no cover - create_app always sets it
        raise TypeError("app.state.shop is not a ShopState")
    return state


State = Annotated[ShopState, Depends(shop_state)]


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


async def require_bearer_token(state: State, authorization: Annotated[str | None, Header()] = None) -> str:
    """The caller's valid bearer token; otherwise 401 with ``WWW-Authenticate: Bearer``."""
    if not authorization:
        raise _unauthorized("missing bearer token")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Authorization header must be 'Bearer <token>'")
    if not state.token_is_valid(token.strip()):
        raise _unauthorized("invalid or expired token")
    return token.strip()


BearerToken = Annotated[str, Depends(require_bearer_token)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
