"""``POST /import/curl``, ``POST /import/har``, ``POST /import/openapi`` and ``POST /import/postman``."""

from __future__ import annotations

from fastapi import APIRouter

from orchestra.api_deps import EditorDep, SecretsDep, SessionDep, TransactionsDep
from orchestra.importing import openapi_service, service
from orchestra.importing.schemas import (
    CurlImport,
    HarImport,
    ImportOut,
    OpenApiImport,
    OpenApiImportOut,
    PostmanImport,
)

router = APIRouter(prefix="/import", tags=["import"])
_REFUSED = (
    "An input that cannot be imported (not curl, malformed or unsupported HAR or collection, too big, too "
    "deep): 422 saying why."
)


@router.post(
    "/curl",
    response_model=ImportOut,
    description="Test cases from curl command lines, one per command, each with a 2xx status check. "
    "Credentials and other secret-looking headers and query parameters become environment secrets, "
    "never YAML text. " + _REFUSED,
)
async def import_curl(
    data: CurlImport, session: SessionDep, actor: EditorDep, secrets: SecretsDep
) -> ImportOut:
    return await service.import_curl(session, actor, secrets, data)


@router.post(
    "/har",
    response_model=ImportOut,
    description="One test case from a HAR document's requests, in order, each expecting the status and "
    "content type that was observed; static files are left out. Secrets as for curl. " + _REFUSED,
)
async def import_har(
    data: HarImport, session: SessionDep, actor: EditorDep, secrets: SecretsDep
) -> ImportOut:
    return await service.import_har(session, actor, secrets, data)


@router.post(
    "/openapi",
    response_model=OpenApiImportOut,
    description="A runnable suite from an OpenAPI 3.0 / 3.1 description (JSON or YAML text, or the "
    "document): a test per operation (inputs planned from the description; the documented status, "
    "content type and response schema checked), a lifecycle flow per entity, a suite file. Security "
    "schemes become secret names. With `existing`, each file says what a re-import does to the caller's "
    "copy. With `project` and `environment`, the environment gets the base URL and the description. A "
    "description that cannot be imported (malformed, a version other than Swagger 2.0 — converted — "
    "or OpenAPI 3.x, a $ref cycle, too deep): 422; too large: 413.",
)
async def import_openapi(
    data: OpenApiImport, transactions: TransactionsDep, actor: EditorDep
) -> OpenApiImportOut:
    return await openapi_service.import_openapi(transactions, actor, data)


@router.post(
    "/postman",
    response_model=ImportOut,
    description="One test case from a Postman collection (v2.0 or v2.1) with its optional environment and "
    "globals: the requests in order, variables by Postman's precedence, auth as inherited, test scripts "
    "that are plain assertions as checks (the others named in the notes); secret environment values and "
    "literal credentials become secrets. " + _REFUSED,
)
async def import_postman(
    data: PostmanImport, session: SessionDep, actor: EditorDep, secrets: SecretsDep
) -> ImportOut:
    return await service.import_postman(session, actor, secrets, data)
