"""The DataPlan document (version 1): named bindings that generate values, call SUT operations by
``operationId`` (capturing from their responses and declaring the call that undoes them), or look up existing
entities. Bindings form a DAG through ``depends_on`` and the ``data.<name>`` references in their templates.

Every string in ``path``, ``query``, ``headers`` and ``body`` may be a template (``{{ data.customer.id }}``,
``{{ env.x }}``, ``{{ secrets.x }}``; in a cleanup also ``{{ self.id }}``, the binding's own value). The
published JSON Schema (``schemas/dataplan.schema.json``) is generated from these models.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DATAPLAN_VERSION: Literal[1] = 1
MAX_BINDINGS = 200
BindingName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
OperationId = Annotated[str, Field(min_length=1, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Generate(_Model):
    """A generated value: from a JSON Schema (format-aware: email, uuid, date-time, uri, enum, min/max,
    length, pattern) or from a Faker provider (``faker: "company"``). Exactly one of the two."""

    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    faker: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    faker_args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> Generate:
        if (self.json_schema is None) == (self.faker is None):
            raise ValueError("generate needs exactly one of: schema, faker")
        return self


class Request(_Model):
    """An operation and the values of its parameters and body (templates allowed)."""

    operation: OperationId
    path: dict[str, Any] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None


class Call(Request):
    """Call an operation, typically to create a prerequisite entity."""

    expect_status: list[Annotated[int, Field(ge=100, le=599)]] | None = Field(
        default=None, description="Accepted statuses; default: any 2xx."
    )
    capture: dict[BindingName, str] = Field(
        default_factory=dict,
        description='Name → "$.json.path" into the response body, "header:Name", or "status". With '
        "captures the binding's value is the object of them, otherwise the response body.",
    )


class Lookup(Request):
    """Find an existing entity: the first match of ``select`` (JSONPath) in the response body."""

    select: str = Field(default="$", min_length=1)


class Binding(_Model):
    description: str | None = Field(default=None, max_length=2000)
    depends_on: list[BindingName] = Field(default_factory=list)
    generate: Generate | None = None
    call: Call | None = None
    lookup: Lookup | None = None
    value: Any = Field(
        default=None, description="A value; its strings may be templates (rendered with data.<name>)."
    )
    cleanup: Request | None = Field(default=None, description="The call that undoes ``call``.")

    @model_validator(mode="after")
    def _one_kind(self) -> Binding:
        kinds = [name for name in ("generate", "call", "lookup") if getattr(self, name) is not None]
        if "value" in self.model_fields_set:
            kinds.append("value")
        if len(kinds) != 1:
            raise ValueError("a binding needs exactly one of: generate, call, lookup, value")
        if self.cleanup is not None and self.call is None:
            raise ValueError("cleanup belongs to a binding that calls an operation")
        return self

    @property
    def kind(self) -> str:
        for name in ("generate", "call", "lookup"):
            if getattr(self, name) is not None:
                return name
        return "value"


class Defaults(_Model):
    headers: dict[str, str] = Field(default_factory=dict, description="Sent with every call (templates).")


class DataPlan(_Model):
    version: Literal[1] = DATAPLAN_VERSION
    seed: int | None = Field(default=None, description="Makes generated values reproducible.")
    notes: list[str] = Field(default_factory=list, description="What the planner wants the user to know.")
    defaults: Defaults = Field(default_factory=Defaults)
    bindings: dict[BindingName, Binding] = Field(default_factory=dict, max_length=MAX_BINDINGS)


def dataplan_json_schema() -> dict[str, Any]:
    """The published JSON Schema of a DataPlan (also what an LLM planner's output is constrained to)."""
    schema = DataPlan.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://orchestra.dev/schemas/dataplan-v{DATAPLAN_VERSION}.schema.json"
    schema["title"] = "Orchestra DataPlan"
    return schema
