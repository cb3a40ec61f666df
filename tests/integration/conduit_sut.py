"""A SUT of the RealWorld ("Conduit") shape, built on ``login_sut.py`` (its log-in, users, articles and
comments): what it adds is what a plan must undo other than by ``DELETE /collection/{id}``, and what it
must not change for good.

- ``POST /articles/{slug}/favorite`` and ``DELETE /articles/{slug}/favorite``: an action and its undo on
  the same path;
- ``POST /profiles/{username}/follow`` and ``DELETE /profiles/{username}/follow``, ``GET
  /profiles/{username}``: the profiles of users, whom nothing deletes (signing up cannot be undone);
- ``PUT /user``: updates the signed-in user (email, username, password, bio, image; all optional), the
  environment's shared test user; ``GET /user`` reads back its email and username only;
- ``GET /users``: every user with how many follow them and how many articles they favour — what a
  benchmark lists after clean-up to count what was left behind.

Served like the demo: ``python -m tests.integration.conduit_sut --port 0``. State lives in memory.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from orchestra.demo.__main__ import main as serve
from tests.integration.envelope_sut import Article
from tests.integration.login_sut import Authorization, Secured, SignedInEnvelope, _Accounts
from tests.integration.login_sut import create_app as create_login_app


class Profile(BaseModel):
    username: str
    bio: str | None = None
    image: str | None = None
    following: bool


class ProfileEnvelope(BaseModel):
    profile: Profile


class FavoritedArticle(Article):
    favorited: bool
    favoritesCount: int


class FavoritedArticleEnvelope(BaseModel):
    article: FavoritedArticle


class UpdateUser(BaseModel):
    email: str | None = Field(default=None, max_length=120)
    username: str | None = Field(default=None, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")
    password: str | None = Field(default=None, min_length=8, max_length=120)
    bio: str | None = Field(default=None, max_length=500)
    image: str | None = Field(default=None, max_length=500)


class UpdateUserEnvelope(BaseModel):
    user: UpdateUser


class ListedUser(BaseModel):
    username: str
    email: str
    followers: int
    favorites: int


class UserList(BaseModel):
    users: list[ListedUser]


@dataclass
class _Social:
    follows: dict[str, set[str]] = field(default_factory=dict)  # username → who follows them
    favorites: dict[str, set[str]] = field(default_factory=dict)  # slug → who favours it
    bios: dict[str, dict[str, str | None]] = field(default_factory=dict)  # username → bio and image


def create_app() -> FastAPI:
    app = create_login_app()
    app.title = "Conduit SUT"
    accounts: _Accounts = app.state.accounts
    articles: dict[str, Article] = app.state.articles
    social = _Social()

    def user_named(username: str) -> Any:
        found = next((user for user in accounts.users.values() if user.username == username), None)
        if found is None:
            raise HTTPException(404, detail={"errors": {"profile": ["not found"]}})
        return found

    def profile(username: str, reader: str | None) -> dict[str, Any]:
        followers = social.follows.get(username, set())
        extra = social.bios.get(username, {})
        return {"profile": {"username": username, **extra, "following": reader in followers}}

    def favorited(slug: str, reader: str) -> dict[str, Any]:
        if slug not in articles:
            raise HTTPException(404, detail={"errors": {"article": ["not found"]}})
        fans = social.favorites.setdefault(slug, set())
        return {
            "article": {
                **articles[slug].model_dump(),
                "favorited": reader in fans,
                "favoritesCount": len(fans),
            }
        }

    @app.get("/profiles/{username}", operation_id="GetProfileByUsername", response_model=ProfileEnvelope)
    def get_profile(username: str) -> dict[str, Any]:
        return profile(user_named(username).username, None)

    @app.post(
        "/profiles/{username}/follow", operation_id="FollowUserByUsername", response_model=ProfileEnvelope
    )
    def follow(username: str, user: Secured) -> dict[str, Any]:
        social.follows.setdefault(user_named(username).username, set()).add(user.username)
        return profile(username, user.username)

    @app.delete(
        "/profiles/{username}/follow", operation_id="UnfollowUserByUsername", response_model=ProfileEnvelope
    )
    def unfollow(username: str, user: Secured) -> dict[str, Any]:
        social.follows.setdefault(user_named(username).username, set()).discard(user.username)
        return profile(username, user.username)

    @app.post(
        "/articles/{slug}/favorite",
        operation_id="CreateArticleFavorite",
        response_model=FavoritedArticleEnvelope,
    )
    def favorite(slug: str, user: Secured) -> dict[str, Any]:
        favorited(slug, user.username)
        social.favorites[slug].add(user.username)
        return favorited(slug, user.username)

    @app.delete(
        "/articles/{slug}/favorite",
        operation_id="DeleteArticleFavorite",
        response_model=FavoritedArticleEnvelope,
    )
    def unfavorite(slug: str, user: Secured) -> dict[str, Any]:
        favorited(slug, user.username)
        social.favorites[slug].discard(user.username)
        return favorited(slug, user.username)

    @app.put("/user", operation_id="UpdateCurrentUser", response_model=SignedInEnvelope)
    def update_user(
        payload: UpdateUserEnvelope, user: Secured, authorization: Authorization
    ) -> dict[str, Any]:
        change = payload.user
        if change.email is not None and change.email != user.email and change.email in accounts.users:
            raise HTTPException(422, detail={"errors": {"email": ["has already been taken"]}})
        taken = {other.username for other in accounts.users.values() if other is not user}
        if change.username is not None and change.username in taken:
            raise HTTPException(422, detail={"errors": {"username": ["has already been taken"]}})
        old_email, old_username = user.email, user.username
        updated = user.model_copy(
            update={
                key: value for key in ("email", "username", "password") if (value := getattr(change, key))
            }
        )
        del accounts.users[old_email]
        accounts.users[updated.email] = updated
        for session in accounts.sessions.values():
            if session.email == old_email:
                session.email = updated.email
        if updated.username != old_username:
            for fans in [*social.follows.values(), *social.favorites.values()]:
                if old_username in fans:
                    fans.discard(old_username)
                    fans.add(updated.username)
            social.follows[updated.username] = social.follows.pop(old_username, set())
        extra = social.bios.setdefault(updated.username, {})
        extra.update(
            {key: getattr(change, key) for key in ("bio", "image") if key in change.model_fields_set}
        )
        token = (authorization or "").partition(" ")[2]
        return {"user": {"email": updated.email, "username": updated.username, "token": token}}

    @app.get("/users", operation_id="ListUsers", response_model=UserList)
    def list_users() -> dict[str, Any]:
        return {
            "users": [
                {
                    "username": user.username,
                    "email": user.email,
                    "followers": len(social.follows.get(user.username, ())),
                    "favorites": sum(user.username in fans for fans in social.favorites.values()),
                }
                for user in accounts.users.values()
            ]
        }

    return app


if __name__ == "__main__":
    sys.exit(serve(app_factory=create_app))
