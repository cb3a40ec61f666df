from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from orchestra.definitions.testcase_model import NAME_PATTERN
from orchestra.environments.openapi_schemas import MAX_URL
from orchestra.importers.curl import MAX_CURL_TEXT
from orchestra.importers.openapi_suite import MAX_FILE_CHARS, MAX_OPERATIONS
from orchestra.openapi.load import MAX_DOCUMENT_BYTES

EnvironmentProject = Annotated[
    str | None,
    Field(min_length=1, max_length=200, pattern=NAME_PATTERN, description="Project of `environment`."),
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep_credentials: bool = Field(
        default=False, description="Keep Authorization and Cookie headers (as secrets; left out by default)."
    )
    project: EnvironmentProject = None
    environment: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=NAME_PATTERN,
        description="Create or update this environment of `project`: the base URL the requests share and "
        "the secrets found (stored encrypted). Without it, the secrets found are named but not kept.",
    )


class CurlImport(_Request):
    text: str = Field(min_length=1, max_length=MAX_CURL_TEXT, description="curl command lines.")


class HarImport(_Request):
    har: dict[str, Any] = Field(description="The HAR document (its `log`, version 1.1 or 1.2).")
    name: str = Field(default="recorded session", min_length=1, max_length=200, description="Its name.")
    include: list[str] = Field(
        default_factory=list, max_length=100, description="Only requests to these hosts (all when empty)."
    )


class PostmanImport(_Request):
    collection: dict[str, Any] = Field(description="The collection document (format v2.0 or v2.1).")
    environment_file: dict[str, Any] | None = Field(
        default=None, description="A Postman environment document (its `values`)."
    )
    globals_file: dict[str, Any] | None = Field(
        default=None, description="A Postman globals document (its `values`)."
    )
    name: str = Field(
        default="collection.json", min_length=1, max_length=200, description="The collection file's name."
    )


class ImportedFileOut(BaseModel):
    name: str = Field(description="File name, e.g. `get-items.yaml`.")
    yaml: str = Field(description="The test case, ready for `PUT …/test-cases/{name}/yaml` or apply.")


class FoundSecretOut(BaseModel):
    name: str = Field(description="Referenced in the YAML as `{{ secrets.<name> }}`.")
    source: str = Field(description="Where it was found, e.g. `header Authorization`.")


class ImportOut(BaseModel):
    files: list[ImportedFileOut]
    secrets: list[FoundSecretOut] = Field(description="Names only: the values are never answered.")
    base_url: str | None = Field(description="The origin the requests share: the environment's base URL.")
    environment: str | None = Field(description="The environment the base URL and secrets were stored in.")
    notes: list[str]


class ExistingFileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="File name, as answered (`get-item.yaml`).")
    content: str = Field(max_length=2 * MAX_FILE_CHARS, description="The file's text as it is now.")


class OpenApiImport(BaseModel):
    """Exactly one of `text` (JSON or YAML) or `document`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": ["text"]}, {"required": ["document"]}]},
    )

    text: Annotated[str, Field(min_length=1, max_length=MAX_DOCUMENT_BYTES)] | SkipJsonSchema[None] = Field(
        default=None, description="The OpenAPI 3.0 / 3.1 description as JSON or YAML text."
    )
    document: dict[str, Any] | SkipJsonSchema[None] = Field(default=None, description="The description.")
    base_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_URL,
        description="The SUT's base URL (default: the description's first absolute server URL).",
    )
    project: EnvironmentProject = None
    environment: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=NAME_PATTERN,
        description="Create or update this environment of `project`: the base URL, and the description "
        "imported into it (the tests' data is planned from it).",
    )
    existing: list[ExistingFileIn] = Field(
        default_factory=list,
        max_length=MAX_OPERATIONS + 100,
        description="The files of an earlier import as they are now: each generated file is then answered "
        "with what a re-import does to it, and those of operations gone are listed in `removed`.",
    )
    overwrite: bool = Field(default=False, description="Answer edited files as `updated` too.")

    @model_validator(mode="after")
    def exactly_one(self) -> OpenApiImport:
        given = [name for name in ("text", "document") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'text' or 'document'")
        return self


class GeneratedFileOut(ImportedFileOut):
    action: Literal["new", "updated", "unchanged", "kept"] = Field(
        description="What a re-import does to it: `new` (not among `existing`), `updated` (still as "
        "generated, or `overwrite`), `unchanged`, `kept` (edited since generated: leave it alone)."
    )


class NeededSecretOut(BaseModel):
    name: str = Field(description="Read by the tests as `{{ secrets.<name> }}`: give it to the environment.")
    purpose: str = Field(description="What it is for, e.g. `security scheme apiKey (API key in the header)`.")


class OpenApiImportOut(BaseModel):
    title: str
    files: list[GeneratedFileOut]
    removed: list[str] = Field(
        description="Files of `existing` generated for operations no longer described."
    )
    secrets: list[NeededSecretOut] = Field(description="Names only: a description holds no values.")
    base_url: str | None = Field(description="The SUT's base URL, when known.")
    environment: str | None = Field(description="The environment the base URL and the description went to.")
    notes: list[str]
