"""An environment's OpenAPI description: import it (URL, document or text) and browse its operations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from orchestra.api_deps import EditorDep, SessionDep, TransactionsDep, ViewerDep
from orchestra.environments import openapi_service as service
from orchestra.environments.openapi_schemas import OperationBrief, SpecImport, SpecSummary
from orchestra.kit.json_guard import is_json_media_type
from orchestra.openapi.errors import InvalidDescription, UnsupportedMediaType

router = APIRouter(prefix="/projects/{project}/environments/{environment}/openapi", tags=["openapi"])

YAML_MEDIA_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": SpecImport.model_json_schema()},
            **{media: {"schema": {"type": "string"}} for media in YAML_MEDIA_TYPES},
        },
    }
}


async def _import_request(request: Request) -> SpecImport:
    """The JSON body ``{"url"|"document"|"text": ...}``, or a raw YAML upload (the file as the body)."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    body = await request.body()
    if media_type in YAML_MEDIA_TYPES:
        try:
            return SpecImport(text=body.decode("utf-8"))
        except UnicodeDecodeError:
            raise InvalidDescription("the uploaded description is not UTF-8 text") from None
        except ValidationError:
            raise InvalidDescription("the uploaded description is empty") from None
    if not is_json_media_type(content_type):
        raise UnsupportedMediaType(
            'send JSON ({"url"|"document"|"text": ...}) as application/json, or the YAML file as '
            f"application/yaml (got {media_type[:100] or 'no Content-Type'})"
        )
    try:
        return SpecImport.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False)) from None


@router.put(
    "",
    response_model=SpecSummary,
    openapi_extra=_IMPORT_BODY,
    description="Import (or replace) the environment's OpenAPI 3.x description: "
    '{"url": ...} fetches it under the environment\'s egress policy; {"document": {...}} or '
    '{"text": "<JSON or YAML>"} upload it; a YAML body (Content-Type: application/yaml) is the file itself.',
)
async def import_openapi(
    project: str, environment: str, request: Request, transactions: TransactionsDep, actor: EditorDep
) -> SpecSummary:
    data = await _import_request(request)
    return SpecSummary.of(await service.import_spec(transactions, actor, project, environment, data))


@router.get("", response_model=SpecSummary)
async def get_openapi(project: str, environment: str, session: SessionDep, actor: ViewerDep) -> SpecSummary:
    return SpecSummary.of(await service.get_spec(session, actor, project, environment))


@router.get("/document")
async def get_openapi_document(
    project: str, environment: str, session: SessionDep, actor: ViewerDep
) -> dict[str, Any]:
    return await service.get_document(session, actor, project, environment)


@router.get("/operations", response_model=list[OperationBrief])
async def list_operations(
    project: str, environment: str, session: SessionDep, actor: ViewerDep
) -> list[OperationBrief]:
    catalogue = await service.get_catalogue(session, actor, project, environment)
    return [OperationBrief.of(operation) for operation in catalogue.operations.values()]


@router.get("/operations/{operation_id}")
async def get_operation(
    project: str, environment: str, operation_id: str, session: SessionDep, actor: ViewerDep
) -> dict[str, Any]:
    """The operation as the planners see it: parameters, request and response schemas, security."""
    return (await service.get_operation(session, actor, project, environment, operation_id)).to_json()
