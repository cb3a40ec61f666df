"""HAR files (HTTP Archive 1.1/1.2, as browsers and proxies save them) read as requests.

The requests of a HAR are one session: they become the steps of one test case, in the order they were
made, each expecting the status and the content type that was observed. Static files (images, fonts,
style sheets, scripts) and non-http entries are left out; ``include`` keeps only the given hosts.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from orchestra.importers.requests import ImportedRequest, ImportRefused
from orchestra.kit.json_guard import nesting_exceeds

MAX_HAR_BYTES = 20_971_520  # 20 MiB: a long browsing session with bodies
MAX_HAR_DEPTH = 64  # a HAR nests 5 levels; bodies are text
MAX_ENTRIES = 1000
_STATIC = ("image/", "font/", "audio/", "video/", "text/css", "javascript", "application/wasm")
_SUPPORTED_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ImportRefused(f"not a HAR file: {where} is not an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ImportRefused(f"not a HAR file: {where} is not a list")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ImportRefused(f"not a HAR file: {where} is not text")
    return value


def load(content: bytes) -> dict[str, Any]:
    """The HAR's ``log`` object, after the size, depth and version checks."""
    if len(content) > MAX_HAR_BYTES:
        raise ImportRefused(f"the HAR file is {len(content):,} bytes; at most {MAX_HAR_BYTES:,} are read")
    if nesting_exceeds(content, MAX_HAR_DEPTH):
        raise ImportRefused(f"the HAR file nests deeper than {MAX_HAR_DEPTH} levels")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("the HAR file is not UTF-8 text") from None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ImportRefused(f"the HAR file is not JSON: {error}") from None
    log = _object(_object(document, "the document").get("log"), "log")
    version = log.get("version")
    if version not in ("1.1", "1.2"):
        raise ImportRefused(f"HAR version {version!r} is not supported (1.1 and 1.2 are)")
    return log


def _request(entry: dict[str, Any], index: int) -> ImportedRequest | None:
    where = f"log.entries[{index}]"
    request = _object(entry.get("request"), f"{where}.request")
    response = _object(entry.get("response", {}), f"{where}.response")
    url = _text(request.get("url"), f"{where}.request.url")
    method = _text(request.get("method"), f"{where}.request.method").upper()
    if urlsplit(url).scheme not in ("http", "https") or method not in _SUPPORTED_METHODS:
        return None
    content = _object(response.get("content", {}), f"{where}.response.content")
    response_type = content.get("mimeType") if isinstance(content.get("mimeType"), str) else None
    if response_type and any(kind in response_type.lower() for kind in _STATIC):
        return None
    headers = [
        (
            _text(header.get("name"), f"{where}.request.headers"),
            _text(header.get("value"), f"{where}.request.headers"),
        )
        for header in (
            _object(item, f"{where}.request.headers[]")
            for item in _list(request.get("headers", []), f"{where}.request.headers")
        )
    ]
    post = request.get("postData")
    body: str | None = None
    multipart: dict[str, str | dict[str, str]] | None = None
    content_type: str | None = None
    if post is not None:
        post = _object(post, f"{where}.request.postData")
        content_type = post.get("mimeType") if isinstance(post.get("mimeType"), str) else None
        if isinstance(post.get("text"), str):
            body = post["text"]  # the bytes sent, boundary and all, with the Content-Type that names it
        elif post.get("params"):
            pairs = _params(post["params"], f"{where}.request.postData.params")
            if (content_type or "").lower().startswith("multipart/"):
                multipart = dict(pairs)
                if len(multipart) != len(pairs):
                    raise ImportRefused(
                        f"{where}: a multipart field is given twice; the test case sends each once"
                    )
            else:
                body = urlencode(pairs)
    status = response.get("status")
    observed = (
        status if isinstance(status, int) and not isinstance(status, bool) and 100 <= status <= 599 else None
    )
    return ImportedRequest(
        method=method,
        url=url,
        headers=headers,
        body=body,
        content_type=content_type or next((v for n, v in headers if n.lower() == "content-type"), None),
        status=observed,
        response_type=response_type,
        multipart=multipart,
    )


def _params(value: Any, where: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of postData.params, recorded when its text was not (a form, or multipart
    without the file contents). An uploaded file's content is not in a HAR: such a request is refused."""
    pairs: list[tuple[str, str]] = []
    for param in (_object(item, f"{where}[]") for item in _list(value, where)):
        name = _text(param.get("name"), f"{where}[].name")
        if param.get("fileName") is not None:
            file_name = str(param["fileName"])[:200]
            raise ImportRefused(
                f"{where}: the HAR holds no content of the file {file_name!r} uploaded as {name[:80]!r}; "
                "import that request with curl -F name=@file instead"
            )
        pairs.append((name, _text(param.get("value", ""), f"{where}[].value")))
    return pairs


def parse_har(content: bytes, include: list[str] | None = None) -> tuple[list[ImportedRequest], list[str]]:
    """The requests of a HAR, in order, and notes on what was left out."""
    log = load(content)
    entries = _list(log.get("entries"), "log.entries")
    hosts = {host.lower() for host in include or []}
    requests: list[ImportedRequest] = []
    skipped = other_hosts = 0
    for index, entry in enumerate(entries):
        request = _request(_object(entry, f"log.entries[{index}]"), index)
        if request is None:
            skipped += 1
        elif hosts and (urlsplit(request.url).hostname or "").lower() not in hosts:
            other_hosts += 1
        else:
            requests.append(request)
    if len(requests) > MAX_ENTRIES:
        raise ImportRefused(
            f"{len(requests):,} requests; at most {MAX_ENTRIES:,} are imported (use --include)"
        )
    if not requests:
        raise ImportRefused(
            "the HAR file holds no request to import" + (" for the hosts given" if hosts else "")
        )
    notes = []
    if skipped:
        notes.append(f"{skipped} static or non-http entries were left out")
    if other_hosts:
        notes.append(f"{other_hosts} requests to other hosts were left out")
    return requests, notes
