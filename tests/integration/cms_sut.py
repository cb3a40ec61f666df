"""A SUT of the shape a headless CMS (Directus) gives its API and its description, for the planner's rules
about descriptions that say less than the SUT wants:

- ``POST /auth/login`` answers ``{"data": {"access_token", "refresh_token"}}``; ``POST /auth/refresh``
  takes a refresh token the log-in gave (a made-up one is refused 401);
- ``POST /collections`` is refused 403 to this user whatever the body; ``GET /collections`` lists the
  existing ones (``articles``), ``GET /collections/{id}`` and ``GET /fields/{collection}`` read one;
- ``POST /files`` is described as ``{"data": string}``, but the SUT requires the file's ``type`` and
  ``storage`` (named in Directus-shaped 400s), which only the answer's schema describes;
- ``POST /steps`` takes an optional ``resolve``: the key of another step or the step itself (``oneOf``); a
  key of no step is refused as an invalid foreign key;
- ``PATCH /users/me/track/page`` sets the user's ``last_page``, which only ``GET /users/me`` reads back,
  and which starts null: a null cannot be written back (the SUT refuses it), so a plan must not change it;
- ``GET /grants``: the grants, whose creation needs an existing collection (``POST /grants``).

The description is served at ``/server/specs/oas`` and written by hand (the SUT's own routes do not
describe themselves). State lives in memory. ``create_app(email, password)``.
"""

from __future__ import annotations

import itertools
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

COLLECTIONS = ("articles",)
_ID = {"type": "string"}


def _envelope(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"data": schema}}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _answer(schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": "Successful request", **_json(schema)}}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


TOKENS = {
    "type": "object",
    "properties": {"access_token": {"type": "string"}, "refresh_token": {"type": "string"}},
}
COLLECTION = {
    "type": "object",
    "properties": {"collection": {"type": "string", "example": "customers"}, "note": {"type": "string"}},
}
FILE = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "type": {"type": "string", "example": "image/jpeg"},
        "storage": {"type": "string", "example": "local"},
        "title": {"type": "string", "nullable": True},
    },
}
STEP_FIELDS = {
    "id": {"type": "string"},
    "name": {"type": "string", "example": "Log to Console"},
}
STEP = {
    "type": "object",
    "properties": {
        **STEP_FIELDS,
        "resolve": {
            "example": "63716273-0f29-4648-8a2a-2af2948f6f78",
            "oneOf": [{"type": "string"}, {"type": "object", "properties": STEP_FIELDS}],
        },
    },
}
ME = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "email": {"type": "string"},
        "last_page": {"type": "string", "nullable": True},
    },
}
GRANT = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "collection": {"type": "string", "example": "customers"},
        "action": {"type": "string", "enum": ["create", "read"]},
    },
}
BEARER = [{"Auth": []}]


def _document() -> dict[str, Any]:
    listing = {"type": "object", "properties": {"data": {"type": "array", "items": COLLECTION}}}
    credentials = {
        "type": "object",
        "required": ["email", "password"],
        "properties": {"email": {"type": "string"}, "password": {"type": "string"}},
    }
    refresh = {
        "type": "object",
        "properties": {
            "refresh_token": {"type": "string", "example": "eyJ0eXAiOiJKV..."},
            "mode": {"type": "string", "enum": ["json", "cookie"], "default": "json"},
        },
    }
    item = [_path("id")]
    paths = {
        "/auth/login": {
            "post": {
                "operationId": "login",
                "requestBody": _json(credentials),
                "responses": _answer(_envelope(TOKENS)),
            }
        },
        "/auth/refresh": {
            "post": {
                "operationId": "refresh",
                "requestBody": _json(refresh),
                "responses": _answer(_envelope(TOKENS)),
            }
        },
        "/collections": {
            "get": {"operationId": "getCollections", "security": BEARER, "responses": _answer(listing)},
            "post": {
                "operationId": "createCollection",
                "security": BEARER,
                "requestBody": _json(COLLECTION),
                "responses": _answer(_envelope(COLLECTION)),
            },
        },
        "/collections/{id}": {
            "get": {
                "operationId": "getCollection",
                "security": BEARER,
                "parameters": item,
                "responses": _answer(_envelope(COLLECTION)),
            },
            "delete": {
                "operationId": "deleteCollection",
                "security": BEARER,
                "parameters": item,
                "responses": {"204": {"description": "Deleted"}},
            },
        },
        "/fields/{collection}": {
            "get": {
                "operationId": "getCollectionFields",
                "security": BEARER,
                "parameters": [_path("collection")],
                "responses": _answer(
                    {"type": "object", "properties": {"data": {"type": "array", "items": {"type": "object"}}}}
                ),
            }
        },
        "/files": {
            "get": {
                "operationId": "getFiles",
                "security": BEARER,
                "responses": _answer(
                    {"type": "object", "properties": {"data": {"type": "array", "items": FILE}}}
                ),
            },
            "post": {
                "operationId": "createFile",
                "security": BEARER,
                "requestBody": _json({"type": "object", "properties": {"data": {"type": "string"}}}),
                "responses": _answer(_envelope(FILE)),
            },
        },
        "/files/{id}": {
            "get": {
                "operationId": "getFile",
                "security": BEARER,
                "parameters": item,
                "responses": _answer(_envelope(FILE)),
            },
            "delete": {
                "operationId": "deleteFile",
                "security": BEARER,
                "parameters": item,
                "responses": {"204": {"description": "Deleted"}},
            },
        },
        "/steps": {
            "get": {
                "operationId": "getSteps",
                "security": BEARER,
                "responses": _answer(
                    {"type": "object", "properties": {"data": {"type": "array", "items": STEP}}}
                ),
            },
            "post": {
                "operationId": "createStep",
                "security": BEARER,
                "requestBody": _json(STEP),
                "responses": _answer(_envelope(STEP)),
            },
        },
        "/steps/{id}": {
            "delete": {
                "operationId": "deleteStep",
                "security": BEARER,
                "parameters": item,
                "responses": {"204": {"description": "Deleted"}},
            },
        },
        "/users/me": {
            "get": {"operationId": "getMe", "security": BEARER, "responses": _answer(_envelope(ME))}
        },
        "/users/me/track/page": {
            "patch": {
                "operationId": "updateLastUsedPageMe",
                "security": BEARER,
                "requestBody": _json({"type": "object", "properties": {"last_page": {"type": "string"}}}),
                "responses": {"200": {"description": "Successful request"}},
            }
        },
        "/grants": {
            "get": {
                "operationId": "getGrants",
                "security": BEARER,
                "responses": _answer(
                    {"type": "object", "properties": {"data": {"type": "array", "items": GRANT}}}
                ),
            },
            "post": {
                "operationId": "createGrant",
                "security": BEARER,
                "requestBody": _json(
                    {"type": "object", "properties": {"action": GRANT["properties"]["action"]}}
                ),
                "responses": _answer(_envelope(GRANT)),
            },
        },
        "/grants/{id}": {
            "delete": {
                "operationId": "deleteGrant",
                "security": BEARER,
                "parameters": item,
                "responses": {"204": {"description": "Deleted"}},
            },
        },
    }
    return {
        "openapi": "3.0.1",
        "info": {"title": "CMS-shaped SUT", "version": "1"},
        "paths": paths,
        "components": {"securitySchemes": {"Auth": {"type": "http", "scheme": "bearer"}}},
    }


def _errors(*errors: dict[str, Any], status: int = 400) -> JSONResponse:
    return JSONResponse({"errors": list(errors)}, status_code=status)


def _required(field: str) -> dict[str, Any]:
    """Directus' shape of a missing field."""
    return {
        "message": f'Validation failed for field "{field}". Value is required.',
        "extensions": {"field": field, "type": "required", "code": "FAILED_VALIDATION"},
    }


FORBIDDEN = {"message": "You don't have permission to access this.", "extensions": {"code": "FORBIDDEN"}}


def create_app(email: str, password: str) -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    document = _document()
    access: set[str] = set()
    refresh: set[str] = set()
    numbers = itertools.count(1)
    files: dict[str, dict[str, Any]] = {}
    steps: dict[str, dict[str, Any]] = {}
    grants: dict[str, dict[str, Any]] = {}
    me: dict[str, Any] = {"id": "u1", "email": email, "last_page": None}

    def tokens() -> dict[str, Any]:
        pair = {"access_token": secrets.token_hex(8), "refresh_token": secrets.token_hex(8)}
        access.add(pair["access_token"])
        refresh.add(pair["refresh_token"])
        return {"data": pair}

    def items(path: str, store: dict[str, dict[str, Any]], *, readable: bool = False) -> None:
        """The listing of ``store`` at ``path``, the deletion of an item (as Directus: deleting what is
        gone is no error) and, when ``readable``, the reading of one."""

        async def listing() -> dict[str, Any]:
            return {"data": list(store.values())}

        async def delete(key: str) -> Response:
            store.pop(key, None)
            return Response(status_code=204)

        async def read(key: str) -> Response:
            if key not in store:
                return _errors(FORBIDDEN, status=403)
            return JSONResponse({"data": store[key]})

        app.add_api_route(path, listing, methods=["GET"])
        app.add_api_route(f"{path}/{{key}}", delete, methods=["DELETE"])
        if readable:
            app.add_api_route(f"{path}/{{key}}", read, methods=["GET"])

    def made(store: dict[str, dict[str, Any]], prefix: str, **fields: Any) -> JSONResponse:
        """A new item of ``store``, answered as Directus answers a creation."""
        item = {"id": f"{prefix}{next(numbers)}", **fields}
        store[item["id"]] = item
        return JSONResponse({"data": item})

    async def body(request: Request) -> dict[str, Any]:
        try:
            parsed = await request.json()
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    @app.middleware("http")
    async def signed_in(request: Request, call_next: Any) -> Response:
        open_paths = ("/auth/login", "/auth/refresh", "/server/specs/oas")
        if request.url.path not in open_paths:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in access:
                return _errors({"message": "Invalid user credentials."}, status=401)
        response: Response = await call_next(request)
        return response

    @app.get("/server/specs/oas")
    async def specs() -> dict[str, Any]:
        return document

    @app.post("/auth/login")
    async def login(request: Request) -> Response:
        given = await body(request)
        if given.get("email") != email or given.get("password") != password:
            return _errors({"message": "Invalid user credentials."}, status=401)
        return JSONResponse(tokens())

    @app.post("/auth/refresh")
    async def refresh_tokens(request: Request) -> Response:
        given = await body(request)
        if given.get("refresh_token") not in refresh:
            return _errors({"message": "Invalid user credentials."}, status=401)
        refresh.discard(given["refresh_token"])
        return JSONResponse(tokens())

    @app.get("/collections")
    async def list_collections() -> dict[str, Any]:
        return {"data": [{"collection": name, "note": None} for name in COLLECTIONS]}

    @app.post("/collections")
    async def create_collection() -> Response:
        return _errors(FORBIDDEN, status=403)  # what the description allows is never enough

    @app.get("/collections/{name}")
    async def get_collection(name: str) -> Response:
        if name not in COLLECTIONS:
            return _errors(FORBIDDEN, status=403)
        return JSONResponse({"data": {"collection": name, "note": None}})

    @app.delete("/collections/{name}")
    async def delete_collection(name: str) -> Response:
        return _errors(FORBIDDEN, status=403)

    @app.get("/fields/{name}")
    async def get_fields(name: str) -> Response:
        if name not in COLLECTIONS:
            return _errors(FORBIDDEN, status=403)
        return JSONResponse({"data": [{"collection": name, "field": "id"}]})

    @app.post("/files")
    async def create_file(request: Request) -> Response:
        given = await body(request)
        if "type" not in given:
            return _errors(
                {"message": 'Invalid payload. "type" is required.', "extensions": {"code": "INVALID_PAYLOAD"}}
            )
        if "storage" not in given:
            return _errors(_required("storage"))
        return made(files, "f", type=given["type"], storage=given["storage"], title=None)

    @app.post("/steps")
    async def create_step(request: Request) -> Response:
        given = await body(request)
        following = given.get("resolve")
        if following is not None and following not in steps:
            return _errors({"message": "Invalid foreign key.", "extensions": {"code": "INVALID_FOREIGN_KEY"}})
        return made(steps, "s", name=given.get("name"), resolve=following)

    @app.get("/users/me")
    async def get_me() -> dict[str, Any]:
        return {"data": dict(me)}

    @app.patch("/users/me/track/page")
    async def track_page(request: Request) -> Response:
        given = await body(request)
        if not isinstance(given.get("last_page"), str):
            return _errors({"message": 'Invalid payload. "last_page" key is required.'})
        me["last_page"] = given["last_page"]
        return Response(status_code=200)

    @app.post("/grants")
    async def create_grant(request: Request) -> Response:
        given = await body(request)
        if "collection" not in given:
            return _errors(_required("collection"))
        if given["collection"] not in COLLECTIONS:
            return _errors(
                {"message": f'You don\'t have permission to "read" from collection "{given["collection"]}".'},
                status=403,
            )
        return made(grants, "g", collection=given["collection"], action=given.get("action"))

    items("/files", files, readable=True)
    items("/steps", steps)
    items("/grants", grants)
    return app
