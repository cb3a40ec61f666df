"""HTTP plumbing shared by the demo SUT's routers: state lookup, problem responses, bearer auth."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from orchestra.demo.sut_store import ShopState, StoredResponse
from orchestra.demo.sut_values import JsonObject

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


# Declares ``components.securitySchemes.bearerAuth`` (HTTP bearer) in /openapi.json and marks every route
# that needs a token. It does not check anything itself (auto_error=False): require_bearer_token reads the
# header to give a precise 401 problem.
bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="bearerAuth", description="A token from POST /auth/token."
)


async def require_bearer_token(
    state: State,
    request: Request,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The caller's valid bearer token; otherwise 401 with ``WWW-Authenticate: Bearer``."""
    authorization = request.headers.get("authorization")
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


def replay_response(stored: StoredResponse) -> JSONResponse:
    """The response first given to an ``Idempotency-Key``, marked as replayed."""
    headers = {"Location": stored.location, "Idempotent-Replayed": "true"}
    return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)


def created_response(
    state: ShopState, route: str, key: str | None, status_code: int, body: JsonObject, location: str
) -> JSONResponse:
    """Answer a creation, remembering the response under the ``Idempotency-Key`` if one was given."""
    headers = {"Location": location}
    if key is not None:
        state.store_response(route, key, StoredResponse(status_code, body, location))
        headers["Idempotent-Replayed"] = "false"
    return JSONResponse(body, status_code=status_code, headers=headers)
