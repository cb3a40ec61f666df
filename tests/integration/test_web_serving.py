"""The web application served at / by the API's app: index, client-side routes, cache headers, CSP, and the
API left as it was. A small build of our own stands in for web/'s (the real one is driven by Playwright)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from orchestra.app import create_app
from orchestra.config import Settings

INDEX = (
    '<!doctype html><html><body><div id="root"></div>'
    '<script type="module" src="/assets/index-abc123.js"></script></body></html>'
)


@pytest.fixture
def build(tmp_path: Path) -> Path:
    root = tmp_path / "web_dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-abc123.js").write_text("console.log('app')")
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    return root


async def client_for(web_dir: Path, tmp_path: Path) -> httpx.AsyncClient:
    settings = Settings(data_dir=tmp_path / "data", web_dir=web_dir)
    transport = httpx.ASGITransport(app=create_app(settings))  # no lifespan: no runtime is needed here
    return httpx.AsyncClient(transport=transport, base_url="http://orchestra.test")


@pytest.fixture
async def web(build: Path, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(build, tmp_path) as client:
        yield client


def assert_strict_csp(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_index_is_served_at_the_root_never_cached(web: httpx.AsyncClient) -> None:
    response = await web.get("/")
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert_strict_csp(response)


@pytest.mark.parametrize("route", ["/runs", "/runs/4a1b1f7e-0000-4000-8000-000000000000", "/sign-in"])
async def test_client_side_routes_fall_back_to_the_index(web: httpx.AsyncClient, route: str) -> None:
    response = await web.get(route, params={"status": "FAILED"})
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"
    assert_strict_csp(response)


async def test_hashed_assets_are_cached_for_a_year(web: httpx.AsyncClient) -> None:
    response = await web.get("/assets/index-abc123.js")
    assert response.status_code == 200
    assert response.text == "console.log('app')"
    assert "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    head = await web.head("/assets/index-abc123.js")
    assert head.status_code == 200
    assert head.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_other_files_of_the_build_are_served_but_revalidated(web: httpx.AsyncClient) -> None:
    response = await web.get("/favicon.svg")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


async def test_a_missing_asset_is_a_404_not_the_index(web: httpx.AsyncClient) -> None:
    response = await web.get("/assets/index-old999.js")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "path",
    [
        "/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/..%5csecret.txt",
        "/assets/index-abc123.js%00.html",
    ],
)
async def test_a_path_leaving_the_build_is_refused(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)
    assert "outside the build" not in response.text
    assert response.status_code in (400, 404), response.text
    assert response.text != INDEX


async def test_the_api_is_unaffected(web: httpx.AsyncClient) -> None:
    openapi = await web.get("/api/v1/openapi.json")
    assert openapi.status_code == 200
    assert openapi.json()["info"]["title"] == "Orchestra"
    assert "content-security-policy" not in openapi.headers
    for path in ("/api/v1/no-such-thing", "/api/v1", "/api", "/api/"):
        unknown = await web.get(path)
        assert unknown.status_code == 404, path
        assert unknown.headers["content-type"].startswith("application/problem+json"), path
    posted = await web.post("/api/v1/no-such-thing", json={})
    assert posted.status_code == 404
    docs = await web.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_without_a_build_the_root_says_how_to_build_it(tmp_path: Path) -> None:
    async with await client_for(tmp_path / "nothing-built", tmp_path) as client:
        response = await client.get("/")
    assert response.status_code == 404
    assert "make web" in response.json()["detail"]


async def test_single_sign_on_is_offered_and_its_issuer_may_be_called(build: Path, tmp_path: Path) -> None:
    issuer = "https://kc.example.com:8443/realms/orchestra"
    async with await client_for(build, tmp_path) as client:  # not configured: tokens only, own origin only
        assert (await client.get("/api/v1/auth/options")).json() == {"oidc": None}
        assert "connect-src 'self';" in (await client.get("/")).headers["content-security-policy"]
    settings = Settings(
        data_dir=tmp_path / "data", web_dir=build, oidc_issuer=issuer, oidc_web_client_id="orchestra-web"
    )
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://orchestra.test") as client:
        options = await client.get("/api/v1/auth/options")  # no credential needed
        assert options.status_code == 200
        assert options.json() == {
            "oidc": {"issuer": issuer, "client_id": "orchestra-web", "scope": "openid profile email"}
        }
        page = await client.get("/")
        assert "connect-src 'self' https://kc.example.com:8443;" in page.headers["content-security-policy"]
        assert_strict_csp(page)
