"""A SUT that logs in the way many applications the planner had never seen do: ``POST /users/login`` takes
``{"user": {"email", "password"}}`` and answers the token inside an envelope, at ``$.user.token``; its
security scheme is an API key in the ``Authorization`` header whose value is ``Token <jwt>``, as only the
scheme's description says. A secured call without that header, with the token written another way
(``Bearer <jwt>``, the bare token) or with a token it never gave answers 403, saying which. Signing up
(``POST /users``) answers a token too, so the description holds two operations that answer a token for
credentials.

A token serves every secured request, or — with the environment variable ``LOGIN_SUT_TOKEN_USES=N`` — N of
them, after which it has expired: the SUT answers 401 until the client logs in again.

Articles and comments as in ``envelope_sut.py``: writing them needs the token, reading them does not; an
article that is not there is a 404 naming the slug asked for.
Served like the demo: ``python -m tests.integration.login_sut --port 0``. State lives in memory.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

from orchestra.demo.__main__ import main as serve
from tests.integration.envelope_sut import (
    Article,
    ArticleEnvelope,
    ArticleList,
    Comment,
    CommentEnvelope,
    CommentList,
    NewArticleEnvelope,
    NewCommentEnvelope,
)

TOKEN_USES_VARIABLE = "LOGIN_SUT_TOKEN_USES"
SCHEME_DESCRIPTION = """\
For the protected resources, send the JWT you received when signing up or logging in via /users/login
in the 'Authorization' header, in this format:

    Token xxxxxx.yyyyyyy.zzzzzz
"""


class Credentials(BaseModel):
    email: str = Field(max_length=120)
    password: str = Field(min_length=8, max_length=120)


class LoginEnvelope(BaseModel):
    user: Credentials


class NewUser(Credentials):
    username: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")


class NewUserEnvelope(BaseModel):
    user: NewUser


class SignedInUser(BaseModel):
    email: str
    username: str
    token: str


class SignedInEnvelope(BaseModel):
    user: SignedInUser


@dataclass
class _Session:
    email: str
    uses_left: int | None  # None: never expires


@dataclass
class _Accounts:
    uses: int | None  # how many secured requests a token serves; None: all
    users: dict[str, NewUser] = field(default_factory=dict)
    sessions: dict[str, _Session] = field(default_factory=dict)

    def signed_in(self, user: NewUser) -> dict[str, Any]:
        token = ".".join(secrets.token_urlsafe(12) for _ in range(3))
        self.sessions[token] = _Session(user.email, self.uses)
        return {"user": {"email": user.email, "username": user.username, "token": token}}


HEADER = APIKeyHeader(
    name="Authorization", scheme_name="Token", description=SCHEME_DESCRIPTION, auto_error=False
)
Authorization = Annotated[str | None, Depends(HEADER)]


def current_user(request: Request, authorization: Authorization) -> NewUser:
    accounts: _Accounts = request.app.state.accounts
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != "Token" or not token:
        refusal = "not written as the scheme says" if authorization else "missing"
        raise HTTPException(
            403, detail={"errors": {"token": [f"{refusal}: send 'Authorization: Token <jwt>'"]}}
        )
    session = accounts.sessions.get(token)
    if session is None:
        unknown = "not a token this server gave: send the token /users/login answers at $.user.token"
        raise HTTPException(403, detail={"errors": {"token": [unknown]}})
    if session.uses_left is not None:
        if session.uses_left <= 0:
            raise HTTPException(401, detail={"errors": {"token": ["expired: log in again"]}})
        session.uses_left -= 1
    return accounts.users[session.email]


Secured = Annotated[NewUser, Depends(current_user)]


def create_app() -> FastAPI:
    app = FastAPI(title="Login SUT", version="1.0.0")
    accounts = _Accounts(int(os.environ.get(TOKEN_USES_VARIABLE) or 0) or None)
    app.state.accounts = accounts
    users = accounts.users
    articles: dict[str, Article] = {}
    comments: dict[str, dict[int, Comment]] = {}
    app.state.articles = articles  # for SUTs built on this one (conduit_sut.py)
    counter = iter(range(1, 1_000_000))

    def article_of(slug: str) -> Article:
        if slug not in articles:
            raise HTTPException(404, detail={"errors": {"article": [f"no article with slug '{slug}'"]}})
        return articles[slug]

    @app.post("/users", operation_id="CreateUser", status_code=201, response_model=SignedInEnvelope)
    def sign_up(payload: NewUserEnvelope) -> dict[str, Any]:
        if payload.user.email in users:
            raise HTTPException(422, detail={"errors": {"email": ["has already been taken"]}})
        users[payload.user.email] = payload.user
        return accounts.signed_in(payload.user)

    @app.post("/users/login", operation_id="Login", response_model=SignedInEnvelope)
    def log_in(payload: LoginEnvelope) -> dict[str, Any]:
        user = users.get(payload.user.email)
        if user is None or not secrets.compare_digest(user.password.encode(), payload.user.password.encode()):
            raise HTTPException(401, detail={"errors": {"credentials": ["invalid"]}})
        return accounts.signed_in(user)

    @app.get("/user", operation_id="GetCurrentUser", response_model=SignedInEnvelope)
    def get_current_user(user: Secured, authorization: Authorization) -> Any:
        token = (authorization or "").partition(" ")[2]
        return {"user": {"email": user.email, "username": user.username, "token": token}}

    @app.post("/articles", operation_id="CreateArticle", status_code=201, response_model=ArticleEnvelope)
    def create_article(payload: NewArticleEnvelope, user: Secured) -> dict[str, Any]:
        base = re.sub(r"[^a-z0-9]+", "-", payload.article.title.lower()).strip("-") or "article"
        slug = f"{base[:40]}-{uuid.uuid4().hex[:8]}"
        articles[slug] = Article(slug=slug, author=user.username, **payload.article.model_dump())
        comments[slug] = {}
        return {"article": articles[slug]}

    @app.get("/articles", operation_id="GetArticles", response_model=ArticleList)
    def list_articles() -> dict[str, Any]:
        return {"articles": list(articles.values()), "articlesCount": len(articles)}

    @app.get("/articles/{slug}", operation_id="GetArticle", response_model=ArticleEnvelope)
    def get_article(slug: str) -> dict[str, Any]:
        return {"article": article_of(slug)}

    @app.delete("/articles/{slug}", operation_id="DeleteArticle", status_code=204)
    def delete_article(slug: str, _: Secured) -> Response:
        article_of(slug)
        del articles[slug]
        comments.pop(slug, None)
        return Response(status_code=204)

    @app.post(
        "/articles/{slug}/comments",
        operation_id="CreateArticleComment",
        status_code=201,
        response_model=CommentEnvelope,
    )
    def create_comment(slug: str, payload: NewCommentEnvelope, _: Secured) -> dict[str, Any]:
        article_of(slug)
        comment = Comment(id=next(counter), body=payload.comment.body)
        comments[slug][comment.id] = comment
        return {"comment": comment}

    @app.get("/articles/{slug}/comments", operation_id="GetArticleComments", response_model=CommentList)
    def list_comments(slug: str) -> dict[str, Any]:
        article_of(slug)
        return {"comments": list(comments[slug].values())}

    @app.delete("/articles/{slug}/comments/{commentId}", operation_id="DeleteArticleComment", status_code=204)
    def delete_comment(slug: str, commentId: int, _: Secured) -> Response:
        article_of(slug)
        if commentId not in comments[slug]:
            raise HTTPException(404, detail={"errors": {"comment": ["not found"]}})
        del comments[slug][commentId]
        return Response(status_code=204)

    return app


if __name__ == "__main__":
    sys.exit(serve(app_factory=create_app))
