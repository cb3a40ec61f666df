"""A SUT shaped like the applications the planner had never seen: every resource answered in a single-key
envelope (``{"article": {...}}``), identified by path parameters that are not ids (``{slug}``,
``{username}``) or are ids of nested resources (``{commentId}`` under ``/articles/{slug}/comments``), or
that only an OpenAPI ``link`` ties to a response field (``/lookup/{key}``).
Its OpenAPI 3.1 description is FastAPI's own, at ``/openapi.json``. State lives in memory.

Served like the demo: ``python -m tests.integration.envelope_sut --port 0``.
"""

from __future__ import annotations

import re
import sys
import uuid
from typing import Any

from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel, Field

from orchestra.demo.__main__ import main as serve


class NewArticle(BaseModel):
    title: str = Field(min_length=1, max_length=80)
    body: str = Field(max_length=2000)


class NewArticleEnvelope(BaseModel):
    article: NewArticle


class Article(BaseModel):
    slug: str
    title: str
    body: str
    author: str


class ArticleEnvelope(BaseModel):
    article: Article


class ArticleList(BaseModel):
    articles: list[Article]
    articlesCount: int


class NewComment(BaseModel):
    body: str = Field(min_length=1, max_length=500)


class NewCommentEnvelope(BaseModel):
    comment: NewComment


class Comment(BaseModel):
    id: int
    body: str


class CommentEnvelope(BaseModel):
    comment: Comment


class CommentList(BaseModel):
    comments: list[Comment]


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")
    email: str = Field(max_length=120)


class NewUserEnvelope(BaseModel):
    user: NewUser


class User(BaseModel):
    username: str
    email: str


class UserEnvelope(BaseModel):
    user: User


class UserList(BaseModel):
    users: list[User]


class Profile(BaseModel):
    username: str
    following: bool


class ProfileEnvelope(BaseModel):
    profile: Profile


def create_app() -> FastAPI:
    app = FastAPI(title="Envelope SUT", version="1.0.0")
    articles: dict[str, Article] = {}
    comments: dict[str, dict[int, Comment]] = {}
    users: dict[str, User] = {}
    counter = iter(range(1, 1_000_000))

    def article_of(slug: str) -> Article:
        if slug not in articles:
            raise HTTPException(404, detail={"errors": {"article": ["not found"]}})
        return articles[slug]

    # Only the description's link says that {key} takes the article's slug: no name or schema tells.
    link = {"operationId": "LookUpArticle", "parameters": {"key": "$response.body#/article/slug"}}

    @app.post(
        "/articles",
        operation_id="CreateArticle",
        status_code=201,
        response_model=ArticleEnvelope,
        responses={201: {"description": "The article", "links": {"LookUpArticle": link}}},
    )
    def create_article(payload: NewArticleEnvelope) -> dict[str, Any]:
        base = re.sub(r"[^a-z0-9]+", "-", payload.article.title.lower()).strip("-") or "article"
        slug = f"{base[:40]}-{uuid.uuid4().hex[:8]}"
        articles[slug] = Article(slug=slug, author="tester", **payload.article.model_dump())
        comments[slug] = {}
        return {"article": articles[slug]}

    @app.get("/articles", operation_id="GetArticles", response_model=ArticleList)
    def list_articles() -> dict[str, Any]:
        return {"articles": list(articles.values()), "articlesCount": len(articles)}

    @app.get("/articles/{slug}", operation_id="GetArticle", response_model=ArticleEnvelope)
    def get_article(slug: str) -> dict[str, Any]:
        return {"article": article_of(slug)}

    @app.get("/lookup/{key}", operation_id="LookUpArticle", response_model=ArticleEnvelope)
    def look_up(key: str) -> dict[str, Any]:
        return {"article": article_of(key)}

    @app.delete("/articles/{slug}", operation_id="DeleteArticle", status_code=204)
    def delete_article(slug: str) -> Response:
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
    def create_comment(slug: str, payload: NewCommentEnvelope) -> dict[str, Any]:
        article_of(slug)
        comment = Comment(id=next(counter), body=payload.comment.body)
        comments[slug][comment.id] = comment
        return {"comment": comment}

    @app.get("/articles/{slug}/comments", operation_id="GetArticleComments", response_model=CommentList)
    def list_comments(slug: str) -> dict[str, Any]:
        article_of(slug)
        return {"comments": list(comments[slug].values())}

    @app.delete("/articles/{slug}/comments/{commentId}", operation_id="DeleteArticleComment", status_code=204)
    def delete_comment(slug: str, commentId: int) -> Response:
        article_of(slug)
        if commentId not in comments[slug]:
            raise HTTPException(404, detail={"errors": {"comment": ["not found"]}})
        del comments[slug][commentId]
        return Response(status_code=204)

    @app.post("/users", operation_id="CreateUser", status_code=201, response_model=UserEnvelope)
    def create_user(payload: NewUserEnvelope) -> dict[str, Any]:
        if payload.user.username in users:
            raise HTTPException(409, detail={"errors": {"username": ["has already been taken"]}})
        users[payload.user.username] = User(**payload.user.model_dump())
        return {"user": users[payload.user.username]}

    @app.get("/users", operation_id="GetUsers", response_model=UserList)
    def list_users() -> dict[str, Any]:
        return {"users": list(users.values())}

    @app.delete("/users/{username}", operation_id="DeleteUser", status_code=204)
    def delete_user(username: str) -> Response:
        if users.pop(username, None) is None:
            raise HTTPException(404, detail={"errors": {"user": ["not found"]}})
        return Response(status_code=204)

    @app.get("/profiles/{username}", operation_id="GetProfile", response_model=ProfileEnvelope)
    def get_profile(username: str) -> dict[str, Any]:
        if username not in users:
            raise HTTPException(404, detail={"errors": {"profile": ["not found"]}})
        return {"profile": Profile(username=username, following=False)}

    return app


if __name__ == "__main__":
    sys.exit(serve(app_factory=create_app))
