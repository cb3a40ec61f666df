"""Limit values shared by every level that has one (platform, tenant, project, environment)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

MAX_ACTIVE_RUNS = 100_000
MAX_REQUESTS_PER_S = 100_000.0
MAX_WEIGHT = 1000


def _whole(value: object) -> object:
    """5.0 is the integer 5 (JSON does not tell them apart); anything else is left to the strict check."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Strict: "5", 5.5 and true are refused rather than coerced; 5.0 is 5.
ActiveRunsLimit = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=MAX_ACTIVE_RUNS,
        description="Most runs QUEUED or IN_PROGRESS at once at this level; null: no limit here.",
    ),
    BeforeValidator(_whole),
]
RequestRate = Annotated[
    float,
    Field(
        strict=True,
        gt=0,
        le=MAX_REQUESTS_PER_S,
        allow_inf_nan=False,
        description="Most HTTP requests per second to the SUT, across all executors; null: no limit.",
    ),
]
Weight = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=MAX_WEIGHT,
        description="Share of the platform under saturation, relative to other tenants with pending work.",
    ),
    BeforeValidator(_whole),
]


class GlobalLimitsPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_active_runs: ActiveRunsLimit | None = Field(
        description="The platform-wide limit; null falls back to the default (ORCHESTRA_MAX_ACTIVE_RUNS)."
    )


class GlobalLimitsOut(BaseModel):
    max_active_runs: int = Field(description="The limit in force: the configured one, else the default.")
    configured: int | None = Field(description="The limit set through the API, if any.")
    default: int = Field(description="ORCHESTRA_MAX_ACTIVE_RUNS.")


class TenantUpdate(BaseModel):
    """PATCH: fields given are changed; ``max_active_runs: null`` removes the tenant's limit."""

    model_config = ConfigDict(extra="forbid")

    weight: Weight | SkipJsonSchema[None] = None  # may be left out, never null
    max_active_runs: ActiveRunsLimit | None = None

    @model_validator(mode="after")
    def _weight_not_null(self) -> TenantUpdate:
        if "weight" in self.model_fields_set and self.weight is None:
            raise ValueError(f"weight cannot be null: give an integer from 1 to {MAX_WEIGHT}")
        return self


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    weight: int
    max_active_runs: int | None
