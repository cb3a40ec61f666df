"""Import requests through the API: convert, and keep the secrets found in an environment when asked."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.environments import service as environments
from orchestra.environments.schemas import EnvironmentUpdate
from orchestra.errors import InvalidInput
from orchestra.importers.convert import from_curl, from_har, from_postman, yaml_files
from orchestra.importers.requests import ImportResult
from orchestra.importing.schemas import (
    CurlImport,
    FoundSecretOut,
    HarImport,
    ImportedFileOut,
    ImportOut,
    PostmanImport,
)
from orchestra.kit.secret_box import SecretBox


async def _answer(
    session: AsyncSession,
    actor: Actor,
    secrets: SecretBox,
    request: CurlImport | HarImport | PostmanImport,
    result: ImportResult,
) -> ImportOut:
    stored: str | None = None
    if request.environment:
        if not request.project:
            raise InvalidInput("give the project of the environment")
        if result.base_url:
            await environments.ensure(session, actor, request.project, request.environment, result.base_url)
        if result.secrets:
            change = EnvironmentUpdate.model_validate({"secrets": {s.name: s.value for s in result.secrets}})
            await environments.update(session, actor, request.project, request.environment, change, secrets)
        stored = request.environment
    return ImportOut(
        files=[ImportedFileOut(name=name, yaml=text) for name, text in yaml_files(result)],
        secrets=[FoundSecretOut(name=secret.name, source=secret.source) for secret in result.secrets],
        base_url=result.base_url,
        environment=stored,
        notes=result.notes,
    )


async def import_curl(
    session: AsyncSession, actor: Actor, secrets: SecretBox, request: CurlImport
) -> ImportOut:
    result = from_curl(request.text, keep_credentials=request.keep_credentials)
    return await _answer(session, actor, secrets, request, result)


async def import_har(
    session: AsyncSession, actor: Actor, secrets: SecretBox, request: HarImport
) -> ImportOut:
    content = json.dumps(request.har).encode()
    result = from_har(
        content, name=request.name, include=request.include, keep_credentials=request.keep_credentials
    )
    return await _answer(session, actor, secrets, request, result)


def _json_bytes(document: dict[str, object] | None) -> bytes | None:
    return None if document is None else json.dumps(document).encode()


async def import_postman(
    session: AsyncSession, actor: Actor, secrets: SecretBox, request: PostmanImport
) -> ImportOut:
    result = from_postman(
        json.dumps(request.collection).encode(),
        name=request.name,
        environment=_json_bytes(request.environment_file),
        globals_=_json_bytes(request.globals_file),
    )
    return await _answer(session, actor, secrets, request, result)
