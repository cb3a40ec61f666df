"""Request and response bodies of the environment OpenAPI endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from orchestra.models import ApiSpec
from orchestra.openapi.operations import Operation

MAX_URL = 2000


class SpecImport(BaseModel):
    """Exactly one of: a URL to fetch (under the environment's egress policy), the document itself, or its
    text (JSON or YAML, e.g. a file's content)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": [name]} for name in ("url", "document", "text")]},
    )

    url: Annotated[str, Field(min_length=1, max_length=MAX_URL)] | SkipJsonSchema[None] = None
    document: dict[str, Any] | SkipJsonSchema[None] = None
    text: Annotated[str, Field(min_length=1)] | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def exactly_one(self) -> SpecImport:
        given = [name for name in ("url", "document", "text") if name in self.model_fields_set]
        if len(given) != 1 or getattr(self, given[0]) is None:
            raise ValueError(
                "give exactly one of 'url', 'document' or 'text'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


class SpecSummary(BaseModel):
    title: str
    spec_hash: str
    operation_count: int
    source: str
    imported_at: datetime

    @classmethod
    def of(cls, spec: ApiSpec) -> SpecSummary:
        return cls(
            title=spec.title,
            spec_hash=spec.spec_hash,
            operation_count=spec.operation_count,
            source=spec.source,
            imported_at=spec.imported_at,
        )


class OperationBrief(BaseModel):
    operation_id: str
    method: str
    path: str
    summary: str
    has_body: bool
    security: list[str]

    @classmethod
    def of(cls, operation: Operation) -> OperationBrief:
        return cls(
            operation_id=operation.operation_id,
            method=operation.method,
            path=operation.path,
            summary=operation.summary,
            has_body=operation.request_schema is not None,
            security=list(operation.security),
        )
