"""Documents of a project for the assistant to retrieve from, and hybrid search over them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from orchestra.api_deps import EditorDep, SessionDep, SettingsDep, TransactionsDep, ViewerDep
from orchestra.kit.json_storage import STORABLE_NON_BLANK_TEXT
from orchestra.kit.pagination import Page, PageParams
from orchestra.rag import service
from orchestra.rag.embedders import embedder_for
from orchestra.rag.schemas import (
    MAX_QUERY_CHARS,
    MAX_SEARCH_LIMIT,
    DocumentCreate,
    DocumentDetail,
    DocumentKind,
    DocumentOut,
    SearchResult,
)

router = APIRouter(prefix="/projects/{project}/documents", tags=["documents"])


@router.post("", response_model=DocumentOut, status_code=status.HTTP_201_CREATED)
async def create_document(
    project: str, data: DocumentCreate, transactions: TransactionsDep, actor: EditorDep, settings: SettingsDep
) -> DocumentOut:
    return await service.create(transactions, actor, project, data, embedder_for(settings))


@router.get("", response_model=Page[DocumentOut])
async def list_documents(
    project: str,
    session: SessionDep,
    actor: ViewerDep,
    page: Annotated[PageParams, Depends()],
    kind: Annotated[DocumentKind | None, Query()] = None,
) -> Page[DocumentOut]:
    return await service.list_page(session, actor, project, page, kind)


@router.get("/search", response_model=SearchResult)
async def search_documents(
    project: str,
    transactions: TransactionsDep,
    actor: ViewerDep,
    settings: SettingsDep,
    q: Annotated[
        str,
        Query(
            min_length=1, max_length=MAX_QUERY_CHARS, json_schema_extra={"pattern": STORABLE_NON_BLANK_TEXT}
        ),
    ],
    kind: Annotated[DocumentKind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH_LIMIT)] = 8,
) -> SearchResult:
    return await service.search(
        transactions, actor, project, q, embedder_for(settings), kind=kind, limit=limit
    )


@router.get("/{document}", response_model=DocumentDetail)
async def get_document(
    project: str, document: uuid.UUID, session: SessionDep, actor: ViewerDep
) -> DocumentDetail:
    return await service.get(session, actor, project, document)


@router.delete("/{document}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(project: str, document: uuid.UUID, session: SessionDep, actor: EditorDep) -> None:
    await service.delete(session, actor, project, document)
