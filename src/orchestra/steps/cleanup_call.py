"""A request step's declared cleanup, rendered into the undo call the data ledger keeps.

Rendered once the step passed, with the step's response in scope (``response.status``,
``response.headers.<lowercase name>``, ``response.body``: parsed JSON when it is JSON, else text) and the
variables it captured. A relative URL (``/items/{{ item_id }}``, or a Location header's ``/items/7``) is
joined to the environment's base URL, so it goes to the SUT and nowhere else than a step could.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from orchestra.definitions.testcase_model import CleanupSpec
from orchestra.steps.http_call import HttpCall
from orchestra.steps.templating import TemplateError, render_text, render_value


def response_scope(response: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``response`` a cleanup template sees, from the step's recorded response."""
    if response is None:
        return {"status": None, "headers": {}, "body": None}
    headers = {str(name).lower(): value for name, value in (response.get("headers") or {}).items()}
    body: Any = response.get("body")
    if isinstance(body, str) and not response.get("body_truncated"):
        try:
            body = json.loads(body)
        except (ValueError, RecursionError):
            pass
    return {"status": response.get("status"), "headers": headers, "body": body}


def join_url(base_url: str, url: str) -> str:
    """An absolute http(s) URL as is; anything else appended to the base URL (as steps write
    ``{{ env.base_url }}/items``)."""
    if urlsplit(url).scheme in ("http", "https"):
        return url
    return f"{base_url.rstrip('/')}/{url.lstrip('/')}"


def render_cleanup(
    spec: CleanupSpec, scope: Mapping[str, Any], response: Mapping[str, Any] | None, base_url: str
) -> HttpCall:
    """The undo call of a passed step. Raises TemplateError when it cannot be rendered to a usable URL."""
    full = {**scope, "response": response_scope(response)}
    url = render_text(spec.url, full).strip()
    if not url:
        raise TemplateError(f"cleanup url {spec.url!r} rendered to an empty text")
    if "://" in url and urlsplit(url).scheme not in ("http", "https"):
        raise TemplateError(f"cleanup url {url!r} is not an http(s) URL")
    absolute = join_url(base_url, url)
    if urlsplit(absolute).scheme not in ("http", "https") or not urlsplit(absolute).hostname:
        raise TemplateError(f"cleanup url {url!r} is not an http(s) URL")
    headers = {name: str(render_value(value, full)) for name, value in spec.headers.items()}
    body = render_value(spec.json_body, full) if "json_body" in spec.model_fields_set else None
    return HttpCall(spec.method.value, absolute, headers, body)
