"""A Postman collection (with its environment and globals) written as one Orchestra test case.

A collection run is one pass over its requests in order, each seeing the variables the ones before it set,
so the collection becomes one test case whose steps are its requests in that order, named by their folder
path (``Orders / create order``). Variables follow Postman's precedence, narrowest scope winning:
global < collection < environment (< data rows < local); the file's values become the test case's
``variables``, an environment value of type "secret" an environment secret. Auth is resolved the way Postman
inherits it (request, else its folders, else the collection). Test scripts whose statements are plain status,
JSON value and capture assertions become ``expect`` and ``capture``; other scripts, and every pre-request
script, are kept as JavaScript (``test_script``, ``pre_request_script``) and run in the script sandbox.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from orchestra.definitions.testcase_model import HttpMethod
from orchestra.importers.postman_files import Auth, Body, Collection, FormFile, Request, Variable
from orchestra.importers.postman_scripts import ScriptChecks, translate_test_script
from orchestra.importers.postman_templates import Names, placeholders
from orchestra.importers.postman_uploads import UploadFolder
from orchestra.importers.requests import (
    ImportedFile,
    ImportRefused,
    ImportResult,
    _escape_json,
    _Secrets,
    _slug,
    escape_template,
)

_METHODS = {method.value for method in HttpMethod}
_RAW_TYPES = {
    "json": "application/json",
    "xml": "application/xml",
    "html": "text/html",
    "javascript": "application/javascript",
    "text": "text/plain",
}


def _literal(text: str) -> bool:
    return "{{" not in text


class _Converter:
    def __init__(self, collection: Collection, declarative: bool, uploads: UploadFolder | None) -> None:
        self.collection = collection
        self.declarative = declarative
        self.uploads = uploads
        self.names = Names()
        self.secrets = _Secrets()
        self.notes: list[str] = []
        self.kept = 0  # steps with a script kept as JavaScript

    def note_once(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def credential(self, text: str, label: str, source: str) -> str:
        """A credential of an auth helper: a literal becomes a secret, a placeholder stays one."""
        if _literal(text) and text:
            return self.secrets.reference(label, source, text)
        return self.names.template(text)

    def file(self, key: str, field: FormFile, where: str) -> dict[str, str] | None:
        """A form-data file field as a multipart file part (its file read now), or None: left out, noted."""
        if self.uploads is None:
            self.note_once(
                f"{where}: file fields of a form-data body are left out here (files are read by the "
                f"command line only): {key}"
            )
            return None
        if not field.sources:
            self.note_once(f"{where}: the file field {key!r} names no file and was left out")
            return None
        if len(field.sources) > 1:
            raise ImportRefused(f"{where}: the file field {key!r} names several files; one is supported")
        return self.uploads.part(field.sources[0], field.content_type, where)

    def auth(self, auth: Auth | None, where: str) -> dict[str, Any] | None:
        if auth is None:
            return None
        settings = auth.settings
        if auth.kind == "bearer":
            return {
                "bearer": {"token": self.credential(settings.get("token", ""), "token", f"{where} bearer")}
            }
        if auth.kind == "basic":
            return {
                "basic": {
                    "username": self.names.template(settings.get("username", "")),
                    "password": self.credential(settings.get("password", ""), "password", f"{where} basic"),
                }
            }
        if auth.kind == "apikey":
            place = "query" if settings.get("in") == "query" else "header"
            return {
                "api_key": {
                    "name": self.names.template(settings.get("key", "") or "x-api-key"),
                    "value": self.credential(settings.get("value", ""), "api_key", f"{where} api key"),
                    "in": place,
                }
            }
        if auth.kind == "oauth2":
            token = self.credential(settings.get("accessToken", ""), "access_token", f"{where} oauth2 token")
            prefix = settings.get("headerPrefix", "Bearer") or "Bearer"
            if settings.get("addTokenTo") == "queryParams":
                return {"api_key": {"name": "access_token", "value": token, "in": "query"}}
            if prefix == "Bearer":
                return {"bearer": {"token": token}}
            return {"api_key": {"name": "Authorization", "value": f"{prefix} {token}", "in": "header"}}
        self.note_once(
            f"{where}: auth of type {auth.kind!r} is not supported; its requests are sent without it"
        )
        return None

    def url(self, request: Request) -> str:
        url = request.url.strip()
        if not url:
            raise ImportRefused(f"request {request.name!r} has no URL")
        if "://" not in url and not url.startswith("{{"):
            url = "http://" + url  # as Postman sends it
        return self.names.template(url)

    def query(self, request: Request) -> dict[str, Any]:
        query: dict[str, Any] = {}
        for name, value in request.query:
            key, text = self.names.template(name), self.names.template(value)
            if key in query:
                earlier = query[key]
                query[key] = [*earlier, text] if isinstance(earlier, list) else [earlier, text]
            else:
                query[key] = text
        return query

    def body(self, body: Body | None, where: str, headers: dict[str, str]) -> dict[str, Any]:
        if body is None:
            return {}
        names = {name.lower() for name in headers}
        if body.mode == "raw":
            if not body.raw:
                return {}
            media = _RAW_TYPES.get(body.language)
            if media and "content-type" not in names:
                headers["Content-Type"] = media  # Postman adds it for the raw body's language
            if _literal(body.raw) and body.language == "json":
                try:
                    parsed = json.loads(body.raw)
                except ValueError:
                    parsed = None
                # As data only when Orchestra would send the very bytes Postman sends (compact JSON): a
                # script may sign or hash the body, and the SUT may see its layout.
                if parsed is not None and body.raw == json.dumps(
                    parsed, ensure_ascii=False, separators=(",", ":")
                ):
                    return {"json": _escape_json(parsed)}
            return {"body": self.names.template(body.raw)}
        if body.mode == "urlencoded":
            keys = [name for name, _ in body.fields]
            if len(set(keys)) != len(keys):
                text = "&".join(f"{name}={value}" for name, value in body.fields)
                headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
                return {"body": self.names.template(text)}
            return {"form": {self.names.template(k): self.names.template(v) for k, v in body.fields}}
        if body.mode == "formdata":
            multipart: dict[str, Any] = {}
            for key, value in body.parts:
                part = self.names.template(value) if isinstance(value, str) else self.file(key, value, where)
                if part is not None:
                    multipart[self.names.template(key)] = part
            return {"multipart": multipart}
        if body.mode == "graphql":
            if "content-type" not in names:
                headers["Content-Type"] = "application/json"
            variables = body.graphql_variables.strip() or "{}"
            if _literal(body.query) and _literal(variables):
                try:
                    return {"json": _escape_json({"query": body.query, "variables": json.loads(variables)})}
                except ValueError:
                    raise ImportRefused(f"{where}: the GraphQL variables are not JSON") from None
            text = '{"query": ' + json.dumps(body.query) + ', "variables": ' + variables + "}"
            return {"body": self.names.template(text)}
        raise ImportRefused(f"{where}: a body of mode {body.mode!r} cannot be imported (a file upload)")

    def step(self, request: Request, default_auth: dict[str, Any] | None) -> dict[str, Any]:
        name = " / ".join([*request.folders, request.name])
        where = f"request {name!r}"
        if request.method not in _METHODS:
            raise ImportRefused(
                f"{where}: method {request.method} is not supported ({', '.join(sorted(_METHODS))})"
            )
        headers = {self.names.template(key): self.names.template(value) for key, value in request.headers}
        call: dict[str, Any] = {"method": request.method, "url": self.url(request)}
        body = self.body(request.body, where, headers)
        if headers:
            call["headers"] = headers
        query = self.query(request)
        if query:
            call["query"] = query
        own_auth = self.auth(request.auth, where)
        if own_auth != default_auth:
            call["auth"] = own_auth
        call.update(body)
        step: dict[str, Any] = {"name": escape_template(name)[:200], "request": call}
        self.scripts(request, where, step)
        return step

    def scripts(self, request: Request, where: str, step: dict[str, Any]) -> None:
        """Test scripts that are plain assertions become checks; every other script (and every pre-request
        script) is kept, in Postman's order (collection, folders, request), to run as it is."""
        prerequest = [scripts.prerequest for scripts in request.scripts if scripts.prerequest.strip()]
        checks = ScriptChecks()
        kept: list[str] = []
        for scripts in request.scripts:
            if not scripts.test.strip():
                continue
            if not self.declarative or not translate_test_script(scripts.test, self.names, checks):
                kept.append(scripts.test)
        if prerequest:
            step["pre_request_script"] = prerequest[0] if len(prerequest) == 1 else prerequest
        if checks.expect:
            step["expect"] = checks.expect
        if checks.capture:
            step["capture"] = checks.capture
        if kept:
            step["test_script"] = kept[0] if len(kept) == 1 else kept
            self.kept += 1


def _merged(*scopes: list[Variable]) -> dict[str, Variable]:
    """The variables of the given scopes, a later (narrower) scope replacing an earlier one's value."""
    merged: dict[str, Variable] = {}
    for scope in scopes:
        for variable in scope:
            merged[variable.key] = variable
    return merged


def _ordered(values: dict[str, str]) -> list[str]:
    """Names ordered so that a value referring to others comes after them (Postman resolves lazily;
    Orchestra renders the variables in order). Names in a cycle keep their place at the end."""
    ordered: list[str] = []
    pending = list(values)
    while pending:
        ready = [
            n for n in pending if all(ref in ordered or ref not in values for ref in placeholders(values[n]))
        ]
        if not ready:
            return ordered + pending
        ordered += ready
        pending = [n for n in pending if n not in ready]
    return ordered


def _base_url(urls: list[str], values: dict[str, str]) -> str | None:
    """The origin most requests go to: of a leading ``{{variable}}`` or of a literal URL."""
    origins: Counter[str] = Counter()
    for url in urls:
        leading = re.match(r"\{\{\s*([^{}$]+?)\s*\}\}", url)
        target = values.get(leading.group(1), "") if leading else url
        parts = urlsplit(target)
        if parts.scheme in ("http", "https") and parts.hostname and _literal(target):
            origins[f"{parts.scheme}://{parts.netloc}"] += 1
    return origins.most_common(1)[0][0] if origins else None


def only_folders(collection: Collection, folders: list[str]) -> Collection:
    """The collection with only the requests under the folders named (at any level), as newman's --folder."""
    if not folders:
        return collection
    known = {name for request in collection.requests for name in request.folders}
    unknown = [name for name in folders if name not in known]
    if unknown:
        raise ImportRefused(f"the collection has no folder named {unknown[0][:200]!r}")
    kept = [request for request in collection.requests if set(request.folders) & set(folders)]
    return replace(collection, requests=kept)


def convert(
    collection: Collection,
    environment: list[Variable],
    globals_: list[Variable],
    *,
    file_name: str,
    declarative: bool = True,
    uploads: UploadFolder | None = None,
) -> ImportResult:
    """``declarative``: plain assertion scripts become checks (readable YAML); False keeps every script as
    JavaScript, so each pm.test is a check of its own name, exactly as newman reports it. ``uploads``: where
    the files of form-data file fields are read (none: those fields are left out, noted)."""
    converter = _Converter(collection, declarative, uploads)
    merged = _merged(globals_, collection.variables, environment)
    # A secret is a variable read from the environment's secrets: templates and scripts
    # (pm.environment.get) read it as Postman gives it, and a script may set it like any other.
    secret_variables: dict[str, str] = {}
    secret_keys: set[str] = set()
    for variable in merged.values():
        if variable.secret and variable.value and _literal(variable.value):
            reference = converter.secrets.reference(
                variable.key, f"environment value {variable.key}", variable.value
            )
            secret_variables[converter.names.identifier(variable.key)] = reference
            secret_keys.add(variable.key)
    default_auth = converter.auth(collection.auth, "the collection")
    steps = [converter.step(request, default_auth) for request in collection.requests]
    values = {key: variable.value for key, variable in merged.items() if key not in secret_keys}
    variables = secret_variables | {
        converter.names.identifier(key): converter.names.template(values[key]) for key in _ordered(values)
    }
    used = {name for request in collection.requests for name in placeholders(_texts_of(request))}
    captured = {name for step in steps for name in step.get("capture", {})}
    missing = sorted(name for name in used - set(merged) if converter.names.identifier(name) not in captured)
    if missing:
        converter.note_once(
            "variables used but not defined in the files given (a script or an environment must set them): "
            + ", ".join(missing[:20])
        )
    if converter.kept:
        converter.note_once(
            f"{converter.kept} request(s) keep a test script as JavaScript (it runs in the script sandbox); "
            "the others' assertions were written as checks"
        )
    renamed = {name: ident for name, ident in converter.names.identifiers.items() if name != ident}
    if renamed:
        shown = ", ".join(f"{name} → {ident}" for name, ident in list(renamed.items())[:20])
        converter.note_once(f"variables renamed to be template names: {shown}")
    definition: dict[str, Any] = {
        "name": escape_template(collection.name)[:200],
        "description": f"Imported from the Postman collection {file_name} (format v{collection.version}).",
        "tags": ["postman"],
    }
    if variables:
        definition["variables"] = variables
    if default_auth is not None:
        definition["defaults"] = {"auth": default_auth}
    # as newman: neither a failed assertion nor a failed request stops the collection
    definition["on_failure"] = "continue"
    definition["on_error"] = "continue"
    definition["steps"] = steps
    file = ImportedFile(f"{_slug(collection.name)}.yaml", definition)
    base_url = _base_url([request.url for request in collection.requests], values)
    return ImportResult([file], converter.secrets.found, base_url, converter.notes)


def _texts_of(request: Request) -> str:
    parts = [request.url, *[f"{k}{v}" for k, v in request.query + request.headers]]
    if request.body is not None:
        parts += [request.body.raw, request.body.query, request.body.graphql_variables]
        parts += [f"{k}{v}" for k, v in request.body.fields]
    if request.auth is not None:
        parts += list(request.auth.settings.values())
    return "\n".join(parts)
