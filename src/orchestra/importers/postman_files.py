"""Postman files read into plain data: collections (format v2.0 and v2.1), environments and globals.

A collection is a tree of folders and requests; folders and the collection itself may carry auth, scripts
and (the collection) variables that the requests under them inherit. What is read is bounded before it is
parsed (size, nesting) and while it is walked (folder depth, requests, script length), so a hostile file is
refused with the reason instead of costing time or memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from orchestra.importers.requests import ImportRefused
from orchestra.kit.json_guard import nesting_exceeds

MAX_POSTMAN_BYTES = 10_485_760  # 10 MiB: a large collection with examples saved in it
MAX_POSTMAN_DEPTH = 96  # JSON nesting: folders nest 2 levels each, plus saved examples and bodies
MAX_FOLDER_DEPTH = 20
MAX_REQUESTS = 2000
MAX_SCRIPT_CHARS = 65_536  # one script (all its lines)
MAX_VARIABLES = 2000
_SCHEMA_VERSIONS = {"v2.0.0": "2.0", "v2.1.0": "2.1"}


@dataclass
class Variable:
    key: str
    value: str
    secret: bool = False  # an environment value of type "secret"


@dataclass
class Auth:
    """``kind`` as Postman names it (bearer, basic, apikey, oauth2, noauth, …) and its settings."""

    kind: str
    settings: dict[str, str] = field(default_factory=dict)


@dataclass
class FormFile:
    """A form-data field of type file: the paths it names (``src``, one or several) and its content type
    ("": guessed from the file name)."""

    sources: list[str]
    content_type: str = ""


@dataclass
class Body:
    mode: str  # raw, urlencoded, formdata, graphql, file
    raw: str = ""
    language: str = ""  # raw's language: json, text, xml, html, javascript
    fields: list[tuple[str, str]] = field(default_factory=list)  # urlencoded / formdata (enabled ones)
    parts: list[tuple[str, str | FormFile]] = field(default_factory=list)  # formdata's fields in order
    query: str = ""  # graphql
    graphql_variables: str = ""


@dataclass
class Scripts:
    prerequest: str = ""
    test: str = ""


@dataclass
class Request:
    name: str
    folders: list[str]  # the folder names from the collection down to this request
    method: str
    url: str  # without the query; path variables (":id") replaced by their values
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]
    body: Body | None
    auth: Auth | None  # the effective auth (inherited resolved); None: none
    scripts: list[Scripts]  # collection, folders, request: Postman runs them in this order


@dataclass
class Collection:
    name: str
    version: str  # "2.0" or "2.1"
    variables: list[Variable]
    auth: Auth | None
    requests: list[Request]


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportRefused(f"not a Postman file: {where} is not an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportRefused(f"not a Postman file: {where} is not a list")
    return value


def _text(value: Any, where: str, *, default: str = "") -> str:
    if value is None:
        return default
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise ImportRefused(f"not a Postman file: {where} is not text")
    return value


def load_json(content: bytes, what: str) -> dict[str, Any]:
    """A Postman JSON file, after the size and nesting checks."""
    if len(content) > MAX_POSTMAN_BYTES:
        raise ImportRefused(f"the {what} is {len(content):,} bytes; at most {MAX_POSTMAN_BYTES:,} are read")
    if nesting_exceeds(content, MAX_POSTMAN_DEPTH):
        raise ImportRefused(f"the {what} nests deeper than {MAX_POSTMAN_DEPTH} levels")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(f"the {what} is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ImportRefused(f"the {what} is not JSON: {error}") from None
    return _object(document, f"the {what}")


def _sources(value: Any, where: str) -> list[str]:
    """A file field's ``src``: a path, a list of paths, or none."""
    if isinstance(value, list):
        return [_text(item, f"{where}[{index}]") for index, item in enumerate(value)]
    path = _text(value, where)
    return [path] if path else []


def _pairs(entries: Any, where: str) -> list[tuple[str, str]]:
    """Enabled ``{key, value}`` entries (headers, query, form fields): disabled ones are dropped."""
    pairs = []
    for index, entry in enumerate(_list(entries, where)):
        entry = _object(entry, f"{where}[{index}]")
        if entry.get("disabled") is True or entry.get("key") is None:
            continue
        pairs.append((_text(entry.get("key"), f"{where}[{index}].key"), _text(entry.get("value"), where)))
    return pairs


def _variables(entries: Any, where: str) -> list[Variable]:
    values = _list(entries, where)
    if len(values) > MAX_VARIABLES:
        raise ImportRefused(f"{where} holds {len(values):,} variables; at most {MAX_VARIABLES:,} are read")
    variables = []
    for index, entry in enumerate(values):
        entry = _object(entry, f"{where}[{index}]")
        if entry.get("disabled") is True or entry.get("enabled") is False:
            continue
        key = _text(entry.get("key"), f"{where}[{index}].key")
        if not key:
            continue
        value = entry.get("value")
        text = json.dumps(value) if isinstance(value, dict | list) else _text(value, f"{where}[{index}]")
        variables.append(Variable(key, text, secret=entry.get("type") == "secret"))
    return variables


def _auth(value: Any, where: str) -> Auth | None:
    """The auth an object declares; None when it declares none (it inherits)."""
    if value is None:
        return None
    value = _object(value, where)
    kind = _text(value.get("type"), f"{where}.type")
    if not kind:
        raise ImportRefused(f"{where} has no type")
    if kind == "inherit":
        return None
    raw = value.get(kind, [])
    settings: dict[str, str] = {}
    if isinstance(raw, list):  # v2.1: a list of {key, value, type}
        for index, entry in enumerate(raw):
            entry = _object(entry, f"{where}.{kind}[{index}]")
            settings[_text(entry.get("key"), f"{where}.{kind}[{index}].key")] = _text(
                entry.get("value"), f"{where}.{kind}[{index}].value"
            )
    else:  # v2.0: a mapping
        for key, item in _object(raw, f"{where}.{kind}").items():
            settings[key] = _text(item, f"{where}.{kind}.{key}")
    return Auth(kind, settings)


def _scripts(events: Any, where: str) -> Scripts:
    scripts = Scripts()
    for index, event in enumerate(_list(events, where)):
        event = _object(event, f"{where}[{index}]")
        if event.get("disabled") is True:
            continue
        listen = event.get("listen")
        script = _object(event.get("script", {}), f"{where}[{index}].script")
        lines = script.get("exec", [])
        text = (
            _text(lines, where)
            if isinstance(lines, str)
            else "\n".join(_text(line, f"{where}[{index}].script.exec") for line in _list(lines, where))
        )
        if len(text) > MAX_SCRIPT_CHARS:
            raise ImportRefused(
                f"{where}[{index}]: a script of {len(text):,} characters; "
                f"at most {MAX_SCRIPT_CHARS:,} are read"
            )
        if listen == "prerequest":
            scripts.prerequest = text
        elif listen == "test":
            scripts.test = text
    return scripts


def _url(value: Any, where: str) -> tuple[str, list[tuple[str, str]]]:
    """The URL without its query, path variables replaced, and the enabled query parameters."""
    if isinstance(value, str) or value is None:
        raw, query_entries, path_variables = _text(value, where), None, []
    else:
        url = _object(value, where)
        raw = _text(url.get("raw"), f"{where}.raw")
        query_entries = url.get("query")
        path_variables = _pairs(url.get("variable"), f"{where}.variable")
        if not raw:
            host = url.get("host", "")
            host = ".".join(_text(part, where) for part in host) if isinstance(host, list) else host
            path = url.get("path", "")
            path = "/".join(_text(part, where) for part in path) if isinstance(path, list) else path
            protocol = _text(url.get("protocol"), where)
            raw = (f"{protocol}://" if protocol else "") + _text(host, where) + ("/" + path if path else "")
    base, _, query_text = raw.partition("?")
    base = base.split("#", 1)[0]
    if query_entries is not None:
        query = _pairs(query_entries, f"{where}.query")
    else:
        query = []
        for part in filter(None, query_text.split("#", 1)[0].split("&")):
            name, _, item = part.partition("=")
            query.append((name, item))
    for name, item in path_variables:
        base = "/".join(item if segment == f":{name}" else segment for segment in base.split("/"))
    return base, query


def _body(value: Any, where: str) -> Body | None:
    if value is None:
        return None
    value = _object(value, where)
    if value.get("disabled") is True:
        return None
    mode = _text(value.get("mode"), f"{where}.mode")
    if not mode:
        return None
    if mode == "raw":
        options = value.get("options")
        raw_options = options.get("raw", {}) if isinstance(options, dict) else {}
        language = raw_options.get("language", "") if isinstance(raw_options, dict) else ""
        return Body(mode, raw=_text(value.get("raw"), f"{where}.raw"), language=_text(language, where))
    if mode == "urlencoded":
        return Body(mode, fields=_pairs(value.get("urlencoded"), f"{where}.urlencoded"))
    if mode == "formdata":
        fields: list[tuple[str, str]] = []
        parts: list[tuple[str, str | FormFile]] = []
        for index, entry in enumerate(_list(value.get("formdata"), f"{where}.formdata")):
            at = f"{where}.formdata[{index}]"
            entry = _object(entry, at)
            if entry.get("disabled") is True:
                continue
            key = _text(entry.get("key"), f"{at}.key")
            if entry.get("type") == "file":
                parts.append(
                    (
                        key,
                        FormFile(
                            _sources(entry.get("src"), f"{at}.src"),
                            _text(entry.get("contentType"), f"{at}.contentType"),
                        ),
                    )
                )
            else:
                fields.append((key, _text(entry.get("value"), f"{at}.value")))
                parts.append(fields[-1])
        return Body(mode, fields=fields, parts=parts)
    if mode == "graphql":
        graphql = _object(value.get("graphql", {}), f"{where}.graphql")
        return Body(
            mode,
            query=_text(graphql.get("query"), f"{where}.graphql.query"),
            graphql_variables=_text(graphql.get("variables"), f"{where}.graphql.variables"),
        )
    return Body(mode)  # file and unknown modes: refused or noted by the converter


class _Walker:
    def __init__(self) -> None:
        self.requests: list[Request] = []

    def walk(
        self,
        items: Any,
        where: str,
        folders: list[str],
        auth: Auth | None,
        scripts: list[Scripts],
    ) -> None:
        if len(folders) > MAX_FOLDER_DEPTH:
            raise ImportRefused(f"{where}: folders nest deeper than {MAX_FOLDER_DEPTH} levels")
        for index, item in enumerate(_list(items, where)):
            at = f"{where}[{index}]"
            item = _object(item, at)
            name = _text(item.get("name"), f"{at}.name", default=f"request {len(self.requests) + 1}")
            own_auth = _auth(item.get("auth"), f"{at}.auth")
            effective = auth if own_auth is None else own_auth
            own_scripts = _scripts(item.get("event"), f"{at}.event")
            if "item" in item:  # a folder
                self.walk(item["item"], f"{at}.item", [*folders, name], effective, [*scripts, own_scripts])
                continue
            self.add(item, at, name, folders, effective, [*scripts, own_scripts])

    def add(
        self,
        item: dict[str, Any],
        at: str,
        name: str,
        folders: list[str],
        auth: Auth | None,
        scripts: list[Scripts],
    ) -> None:
        if len(self.requests) >= MAX_REQUESTS:
            raise ImportRefused(f"the collection holds more than {MAX_REQUESTS:,} requests")
        request = item.get("request")
        if isinstance(request, str):  # v2: a request may be its URL alone
            request = {"url": request, "method": "GET"}
        request = _object(request, f"{at}.request")
        url, query = _url(request.get("url"), f"{at}.request.url")
        own_auth = _auth(request.get("auth"), f"{at}.request.auth")
        effective = auth if own_auth is None else own_auth
        headers = request.get("header", [])
        self.requests.append(
            Request(
                name=name,
                folders=folders,
                method=_text(request.get("method"), f"{at}.request.method", default="GET").upper(),
                url=url,
                query=query,
                headers=[] if isinstance(headers, str) else _pairs(headers, f"{at}.request.header"),
                body=_body(request.get("body"), f"{at}.request.body"),
                auth=None if effective is None or effective.kind == "noauth" else effective,
                scripts=scripts,
            )
        )


def parse_collection(content: bytes) -> Collection:
    document = load_json(content, "collection")
    if "collection" in document and "info" not in document:  # as the Postman API answers it
        document = _object(document["collection"], "collection")
    if "info" not in document:
        hint = " (it looks like an environment or globals file)" if "values" in document else ""
        raise ImportRefused(f"not a Postman collection: it has no 'info'{hint}")
    info = _object(document.get("info"), "info")
    schema = _text(info.get("schema"), "info.schema")
    version = next((number for tag, number in _SCHEMA_VERSIONS.items() if f"/{tag}/" in schema), None)
    if version is None:
        shown = schema[:120] or "none"
        raise ImportRefused(f"collection schema {shown!r} is not supported (v2.0.0 and v2.1.0 are)")
    walker = _Walker()
    auth = _auth(document.get("auth"), "auth")
    walker.walk(document.get("item"), "item", [], auth, [_scripts(document.get("event"), "event")])
    if not walker.requests:
        raise ImportRefused("the collection holds no request")
    return Collection(
        name=_text(info.get("name"), "info.name", default="collection") or "collection",
        version=version,
        variables=_variables(document.get("variable"), "variable"),
        auth=None if auth is None or auth.kind == "noauth" else auth,
        requests=walker.requests,
    )


def parse_variables_file(content: bytes, what: str) -> list[Variable]:
    """An environment or globals file: its enabled values."""
    document = load_json(content, what)
    if "values" not in document:
        raise ImportRefused(f"not a Postman {what}: it has no 'values'")
    return _variables(document.get("values"), f"{what} values")
