"""The production Nginx configuration of deploy/nginx/ and the web image's use of it: the same headers,
limits and event streams as the API and `orchestra up` (read from the Python code, so neither side can drift
alone), one site file shared by Debian and the image, and both renderings accepted by Debian's `nginx -t`.
What Nginx then answers is driven in a browser by web/e2e/nginx.spec.ts and over HTTP by
tests/e2e/test_compose_topology.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from fastapi import FastAPI

from orchestra.api import api_router
from orchestra.config import Settings
from orchestra.web import IMMUTABLE, content_security_policy, security_headers
from tests.deploy.tools import DEPLOY
from tests.e2e import nginx_front

SITE = DEPLOY / "nginx" / "orchestra.conf"
UPSTREAM = DEPLOY / "nginx" / "orchestra-upstream.conf"
IMAGE_TEMPLATE = DEPLOY / "images" / "nginx" / "orchestra-upstream.conf.template"
CONTAINERFILE = DEPLOY / "images" / "web.Containerfile"
ISSUER_ORIGIN = "https://sso.example.com"


def block(text: str, opening: str) -> str:
    """The body of the ``{ ... }`` block that starts at the line ``opening`` (nested blocks included)."""
    start = text.index(opening + " {\n") + len(opening) + 3
    depth, index = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        index += 1
    return text[start : index - 1]


def directives(body: str) -> list[str]:
    """The directives of a block's own level (nested blocks left out), comments dropped."""
    flat, depth = [], 0
    for line in body.splitlines():
        line = line.split("#", 1)[0].strip() if not line.strip().startswith("add_header") else line.strip()
        if depth == 0 and line and not line.endswith("{") and line != "}":
            flat.append(line)
        depth += line.count("{") - line.count("}")
    return flat


def map_values(text: str, variable: str) -> dict[str, str]:
    opening = next(line for line in text.splitlines() if re.fullmatch(rf"map \S+ \${variable} \{{", line))
    body = block(text, opening.removesuffix(" {"))
    return {key.strip('"'): value for key, value in re.findall(r'^\s*(\S+)\s+"([^"]*)";', body, re.MULTILINE)}


def server_headers() -> dict[str, str]:
    text = block(SITE.read_text(), "server")
    found = re.findall(r'^    add_header (\S+) (?:"([^"]*)"|([^" ]+))( always)?;$', text, re.MULTILINE)
    return {name: quoted or bare for name, quoted, bare, _always in found}


def test_nginx_sends_the_security_headers_of_orchestra_up_with_and_without_single_sign_on() -> None:
    headers = server_headers()
    policy = map_values(SITE.read_text(), "orchestra_connect_policy")
    for connect_src, expected in (("", ()), (ISSUER_ORIGIN, (ISSUER_ORIGIN,))):
        connect = policy[connect_src] if connect_src in policy else policy["default"]
        sent = {name: value for name, value in headers.items() if name != "Cache-Control"}
        sent["Content-Security-Policy"] = sent["Content-Security-Policy"].replace(
            "$orchestra_connect_policy", connect.replace("$orchestra_connect_src", connect_src)
        )
        assert sent == security_headers(expected)
        assert sent["Content-Security-Policy"] == content_security_policy(expected)
    # on every answer, error pages included
    always = re.findall(r"^    add_header (\S+) .* always;$", block(SITE.read_text(), "server"), re.MULTILINE)
    assert set(always) == set(security_headers())


def test_hashed_assets_are_cached_for_a_year_and_everything_else_of_the_application_is_revalidated() -> None:
    assert server_headers()["Cache-Control"] == "$orchestra_cache_control"
    cache = map_values(SITE.read_text(), "orchestra_cache_control")
    assert cache == {"default": "no-cache", "~^/assets/": IMMUTABLE, "~^/api/": ""}
    # Cache-Control is not sent with an error (no `always`): a 404 is never cached for a year
    no_always = r"^    add_header Cache-Control \$orchestra_cache_control;$"
    assert re.search(no_always, SITE.read_text(), re.MULTILINE)
    site = block(SITE.read_text(), "server")
    assert "try_files $uri /index.html;" in block(site, "    location /")
    assert "try_files $uri =404;" in block(site, "    location /assets/")


def test_the_body_limit_is_the_apis_and_refused_with_the_apis_own_problem() -> None:
    limit = Settings.model_fields["max_request_bytes"].default
    site = block(SITE.read_text(), "server")
    assert f"client_max_body_size {limit // 1024 // 1024}m;" in directives(site)
    assert limit % (1024 * 1024) == 0
    answer = re.search(r"return 413 '(.*)';", block(site, "    location @orchestra_too_large"))
    assert answer is not None
    assert json.loads(answer.group(1)) == {
        "type": "about:blank",
        "title": "Payload too large",
        "status": 413,
        "detail": f"request body is larger than {limit} bytes",
    }


def test_event_streams_of_the_api_pass_unbuffered_uncompressed_and_for_hours() -> None:
    api = block(block(SITE.read_text(), "server"), "    location /api/")
    regex_location = next(line for line in api.splitlines() if line.strip().startswith("location ~ "))
    opening = regex_location.removesuffix(" {")
    pattern = re.compile(opening.strip().removeprefix("location ~ "))
    streaming = block(api, opening)
    for line in ("proxy_buffering off;", "proxy_cache off;", "gzip off;", "proxy_read_timeout 1h;"):
        assert line in directives(streaming)
    assert "proxy_pass http://orchestra_api;" in directives(streaming)
    app = FastAPI()
    app.include_router(api_router, prefix="/api/v1")
    paths = list(app.openapi()["paths"])
    assert len(paths) > 50
    events = [path for path in paths if path.endswith("/events")]
    assert sorted(events) == ["/api/v1/runs/{run_id}/events", "/api/v1/suite-runs/{suite_run_id}/events"]
    for path in paths:
        concrete = re.sub(r"\{[^}]+\}", "0b8a1f2c-0000-4000-8000-000000000000", path)
        assert bool(pattern.fullmatch(concrete)) == (path in events), path
    # and the rest of the API with keep-alive connections to the replicas, HTTP/1.1
    assert {"proxy_http_version 1.1;", 'proxy_set_header Connection "";'} <= set(directives(api))


def test_metrics_are_never_proxied() -> None:
    site = block(SITE.read_text(), "server")
    assert "return 404;" in block(site, "    location = /metrics")
    proxied = re.findall(r"^    location (.*) \{\n(?:(?!^    \}).*\n)*?\s+proxy_pass ", site, re.MULTILINE)
    assert proxied == ["/api/", "= /docs"]


def test_the_web_image_serves_the_same_site_file_behind_its_upstream_template() -> None:
    containerfile = CONTAINERFILE.read_text()
    assert "COPY deploy/nginx/orchestra.conf /etc/nginx/orchestra.conf" in containerfile
    template = IMAGE_TEMPLATE.read_text()
    assert nginx_front.SHIPPED_INCLUDE in template
    assert f"COPY {IMAGE_TEMPLATE.relative_to(DEPLOY.parent)} /etc/nginx/templates/default.conf.template" in (
        containerfile
    )
    root = re.search(r"^    root (\S+);$", SITE.read_text(), re.MULTILINE)
    assert root is not None
    assert f"COPY --from=build /src/src/orchestra/web_dist {root.group(1)}" in containerfile
    # every variable of the template has a default in the image (an unset one would reach Nginx as `${...}`)
    for variable in re.findall(r"\$\{(\w+)\}", template):
        assert re.search(rf"^(ENV|    ) ?{variable}=", containerfile, re.MULTILINE), variable

    # the same upstream as Debian's file, one server line standing for the replicas
    def servers_as_x(text: str) -> str:
        return re.sub(r"    server \S+ ", "    server X ", block(text, "upstream orchestra_api"))

    assert servers_as_x(template) in servers_as_x(UPSTREAM.read_text())
    assert map_values(template, "orchestra_connect_src") == {"default": "${ORCHESTRA_WEB_CONNECT_SRC}"}
    assert map_values(UPSTREAM.read_text(), "orchestra_connect_src") == {"default": ""}


@pytest.mark.parametrize("image", [False, True], ids=["debian", "web-image"])
def test_debians_nginx_accepts_the_configuration(image: bool, tmp_path: Path) -> None:
    if nginx_front.NGINX is None:
        if os.environ.get("CI"):
            pytest.fail(nginx_front.MISSING)
        pytest.skip(nginx_front.MISSING)
    html = tmp_path / "html"
    html.mkdir()
    (html / "index.html").write_text("<!doctype html><title>Orchestra</title>")
    main = nginx_front.write_configuration(
        tmp_path / "nginx", 8080, ["127.0.0.1:8000", "127.0.0.1:8001"], html, ISSUER_ORIGIN, image=image
    )
    prefix = main.parent
    tested = subprocess.run(
        [nginx_front.NGINX, "-p", str(prefix), "-c", str(main), "-e", str(prefix / "error.log"), "-t"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert tested.returncode == 0, tested.stderr
