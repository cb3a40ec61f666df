"""``GET /metrics``: the API process's Prometheus metrics, outside ``/api/v1`` and off the public contract.

Served only when ``ORCHESTRA_METRICS_TOKEN`` is set, and then only to a scraper that sends it as a bearer
token (docs/operations.md): the API's port is the public one.
"""

from __future__ import annotations

from fastapi import APIRouter, Header
from fastapi.responses import PlainTextResponse, Response

from orchestra.api_deps import DatabaseDep, SettingsDep
from orchestra.health import run_gauges
from orchestra.kit import metrics

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def scrape(
    db: DatabaseDep, settings: SettingsDep, authorization: str | None = Header(None)
) -> Response:
    status = metrics.scrape_status(authorization, settings.metrics_token, open_without_token=False)
    if status == 404:
        return PlainTextResponse("not found\n", status_code=404)
    if status == 401:
        return PlainTextResponse(
            "a valid bearer token is required\n", status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    await run_gauges.refresh(db)
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
