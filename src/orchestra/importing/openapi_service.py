"""Import an OpenAPI description through the API: the generated suite's files (with what a re-import does
to the caller's current ones), and, when asked, the environment they run against with the description
imported into it."""

from __future__ import annotations

from orchestra.actor import Actor
from orchestra.db import Transactions
from orchestra.environments import openapi_service as environment_openapi
from orchestra.environments import service as environments
from orchestra.environments.openapi_schemas import SpecImport
from orchestra.errors import InvalidInput
from orchestra.importers.generated_files import updates
from orchestra.importers.openapi_suite import suite_of
from orchestra.importing.schemas import GeneratedFileOut, NeededSecretOut, OpenApiImport, OpenApiImportOut
from orchestra.openapi.load import check_document, parse_text


async def import_openapi(
    transactions: Transactions, actor: Actor, request: OpenApiImport
) -> OpenApiImportOut:
    if request.environment and not request.project:
        raise InvalidInput("give the project of the environment")
    document = parse_text(request.text) if request.text is not None else check_document(request.document)
    result = suite_of(document, base_url=request.base_url, project=request.project)
    existing: dict[str, str | None] = {file.name: file.content for file in request.existing}
    plan = updates({file.name: file.text for file in result.files}, existing, overwrite=request.overwrite)
    if request.environment and request.project:
        if not result.base_url:
            raise InvalidInput("the description names no absolute server URL: give base_url")
        async with transactions() as session:
            await environments.ensure(session, actor, request.project, request.environment, result.base_url)
        spec = SpecImport(document=document)
        await environment_openapi.import_spec(transactions, actor, request.project, request.environment, spec)
    return OpenApiImportOut(
        title=result.title,
        files=[
            GeneratedFileOut(name=file.name, yaml=file.text, action=plan.action(file.name))
            for file in result.files
        ],
        removed=plan.removed,
        secrets=[NeededSecretOut(name=secret.name, purpose=secret.purpose) for secret in result.secrets],
        base_url=result.base_url,
        environment=request.environment if request.project else None,
        notes=result.notes,
    )
