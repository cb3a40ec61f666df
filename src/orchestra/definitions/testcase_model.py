"""Pydantic models of test cases and suites: the single source of truth for the YAML format.

The JSON Schema shipped for editors is generated from these models (see ``schema_export``), so every
rule that a schema can express lives here as a type, and the rest as validators with human messages.
"""

from __future__ import annotations

import base64
import re
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, ClassVar, Literal

from jsonpath_ng import JSONPath
from jsonpath_ng.ext.parser import parse as parse_jsonpath
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    StrictBool,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue, SkipJsonSchema
from pydantic_core import CoreSchema

from orchestra.kit.user_patterns import PatternError, check_pattern, schema_problems

RESERVED_NAMES = frozenset({"env", "secrets", "data", "vars", "run", "step", "response"})
MATCHER_KEYS = (
    "equals not_equals contains not_contains matches exists type length gt gte lt lte one_of".split()
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STATUS_CLASS = re.compile(r"^[1-5][xX]{2}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)\s*$")
_DURATION_UNIT_MS = {"ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
MAX_SLEEP_MS = 3_600_000.0
MAX_RUN_TIMEOUT_S = 86_400  # a run's time limit: one day
MAX_RESPONSE_TIME_MS = 600_000  # as a request's own timeout_ms
MAX_NUMBER = (
    2**53
)  # operands of comparisons and lengths: the largest integer a float (and JSON) holds exactly
MAX_ITERATIONS = 1000  # instances of one step made by for_each or repeat
MAX_PARAMETER_ROWS = 5000  # rows of a data-driven test case: one run each, as many as a suite run holds
MAX_RETRY_FAILED = 1  # a FAILED run is run again at most once (insights: a pass on retry is flaky)
MAX_PARALLELISM = 10_000  # also the bound of a suite run's own parallelism (an integer column)
# Names of projects (a suite's ``project:``), environments, schedules and tokens: safe in a URL path segment.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._ -]*$"
MAX_NAME = 200
# A file part's content in base64: what a definition file (at most 1 MiB) can hold, with room to spare.
MAX_FILE_PART_BASE64 = 768 * 1024
NAME_RULE = "1 to 200 characters, letters, digits, '.', '_', '-' and spaces, starting with a letter or digit"


def is_valid_name(name: str) -> bool:
    """Whether ``name`` may name a project or an environment (the whole text: no trailing newline)."""
    return 1 <= len(name) <= MAX_NAME and re.fullmatch(NAME_PATTERN, name) is not None


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:57]) + "..."


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def has_template(text: str) -> bool:
    """True when ``text`` contains Jinja markup, so it can only be checked after rendering."""
    return "{{" in text or "{%" in text or "{#" in text


@lru_cache(maxsize=1024)
def compile_jsonpath(expression: str) -> JSONPath:
    """Parse a JSONPath once; parsing is slow and the same paths are evaluated on every run."""
    return parse_jsonpath(expression)


def _check_jsonpath(expression: str) -> str:
    try:
        compile_jsonpath(expression)
    except Exception as error:  # jsonpath-ng raises JSONPathError, but also plain lexer/ply errors
        raise ValueError(f"invalid JSONPath {expression!r}: {error}") from None
    return expression


def check_condition_text(condition: bool | str | None) -> bool | str | None:
    """An ``if`` (of a step or a check): a boolean, the text true/false, or a template (checked once
    rendered)."""
    if isinstance(condition, str) and not has_template(condition):
        if condition.strip().lower() not in ("true", "false"):
            raise ValueError(f"if is true, false or a template, got {_shown(condition)}")
    return condition


def _check_variable_name(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(
            f"{name!r} is not a valid variable name (letters, digits and _, not starting with a digit)"
        )
    if name in RESERVED_NAMES:
        raise ValueError(f"{name!r} is a reserved name ({', '.join(sorted(RESERVED_NAMES))})")
    return name


def _scalar_to_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _to_number(value: Any, *, count: bool = False) -> int | float | str:
    """Accept a number, a numeric string, or a template string that is checked again after rendering."""
    if isinstance(value, str):
        if has_template(value):
            return value
        try:
            value = float(value) if any(c in value.lower() for c in ".einf") else int(value)
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    number: int | float = value
    if not -MAX_NUMBER <= number <= MAX_NUMBER:  # also NaN, which no comparison holds
        raise ValueError(f"expected a number from {-MAX_NUMBER} to {MAX_NUMBER}, got {number!r}")
    if count and (not float(number).is_integer() or number < 0):
        raise ValueError(f"expected a non-negative integer, got {number!r}")
    return int(number) if count else number


_NUMBER_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "number", "minimum": -MAX_NUMBER, "maximum": MAX_NUMBER}, {"type": "string"}]
}
_COUNT_SCHEMA: dict[str, Any] = {
    "anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_NUMBER}, {"type": "string"}]
}
VariableName = Annotated[
    str,
    AfterValidator(_check_variable_name),
    WithJsonSchema(
        {
            "type": "string",
            "allOf": [{"pattern": _IDENTIFIER.pattern}, {"not": {"enum": sorted(RESERVED_NAMES)}}],
        }
    ),
]
JsonPathExpression = Annotated[str, AfterValidator(_check_jsonpath)]
HeaderText = Annotated[
    str, BeforeValidator(_scalar_to_text), WithJsonSchema({"type": ["string", "number", "boolean"]})
]
TemplatedNumber = Annotated[int | float | str, PlainValidator(_to_number), WithJsonSchema(_NUMBER_SCHEMA)]
TemplatedCount = Annotated[
    int | str, PlainValidator(lambda v: _to_number(v, count=True)), WithJsonSchema(_COUNT_SCHEMA)
]


class HttpMethod(StrEnum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    HEAD = "HEAD"
    OPTIONS = "OPTIONS"


_METHOD_NAMES = [m.value for m in HttpMethod]
Method = Annotated[
    HttpMethod,
    BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v),
    WithJsonSchema({"type": "string", "enum": _METHOD_NAMES + [m.lower() for m in _METHOD_NAMES]}),
]
QueryScalar = str | int | float | bool


def _template_text(value: Any) -> Any:
    if isinstance(value, str) and not has_template(value):
        raise ValueError(f"expected a mapping or a template that renders to one, got {_shown(value)}")
    return value


# A template: it holds Jinja markup ("{{", "{%" or "{#"), as the schema says too.
MappingTemplate = Annotated[
    str, AfterValidator(_template_text), WithJsonSchema({"type": "string", "pattern": "\\{[{%#]"})
]
# Headers: a mapping (null removes a header set by the defaults), or a template rendering to a mapping.
Headers = dict[str, HeaderText | None] | MappingTemplate
Query = dict[str, QueryScalar | list[QueryScalar] | None]


class BearerAuth(_Model):
    token: str = Field(min_length=1)


class BasicAuth(_Model):
    username: str
    password: str


class ApiKeyAuth(_Model):
    name: str = Field(min_length=1, description="The header or query parameter that carries the key.")
    value: str = Field(min_length=1)
    in_: Literal["header", "query"] = Field(default="header", alias="in")


class OAuth2ClientCredentials(_Model):
    """A token from ``token_url`` (grant type client_credentials), fetched once per run and sent as bearer."""

    token_url: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: str
    scope: str | None = None


class AuthSpec(_Model):
    """How a request authenticates: exactly one helper. Values may be templates (``{{ secrets.x }}``); what
    a helper sends (a token, a Basic header, a key) is masked in everything the run stores."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": [key]} for key in ("bearer", "basic", "api_key", "oauth2_client_credentials")
            ]
        }
    )

    # Never null: a helper given is a mapping (SkipJsonSchema keeps null out of the published schema).
    bearer: BearerAuth | SkipJsonSchema[None] = None
    basic: BasicAuth | SkipJsonSchema[None] = None
    api_key: ApiKeyAuth | SkipJsonSchema[None] = None
    oauth2_client_credentials: OAuth2ClientCredentials | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AuthSpec:
        if len(self.model_fields_set) != 1 or any(
            getattr(self, key) is None for key in self.model_fields_set
        ):
            raise ValueError("auth needs exactly one of: bearer, basic, api_key, oauth2_client_credentials")
        return self


class RequestDefaults(_Model):
    """Request settings every request step inherits (environment < suite < test case < step)."""

    headers: Headers = Field(default_factory=dict, description="Case-insensitive names; null removes.")
    query: Query = Field(default_factory=dict)
    auth: AuthSpec | None = None
    timeout_ms: int | None = Field(default=None, ge=1, le=600_000)


class MultipartFile(_Model):
    """A file part of a ``multipart`` body. Its content is in the definition (base64), so it travels with
    the test case wherever it runs."""

    filename: str = Field(min_length=1, max_length=255, description="The part's file name.")
    content_type: str | None = Field(
        default=None, max_length=255, description="The part's Content-Type (none: guessed from the name)."
    )
    content_base64: str = Field(max_length=MAX_FILE_PART_BASE64, description="The file's content, base64.")

    @field_validator("content_base64")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except ValueError:
            raise ValueError("content_base64 is not base64") from None
        return value

    @field_validator("filename", "content_type")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and any(char in value for char in '\r\n"'):
            raise ValueError('must be one line without a double quote (")')
        return value

    def content(self) -> bytes:
        return base64.b64decode(self.content_base64)


class RequestSpec(_Model):
    """One HTTP request. Strings may contain templates; they are rendered just before sending."""

    method: Method = HttpMethod.GET
    url: str = Field(min_length=1)
    headers: Headers = Field(
        default_factory=dict, description="Merged over the defaults' (case-insensitive); null removes one."
    )
    query: Query = Field(default_factory=dict)
    auth: AuthSpec | None = Field(default=None, description="Replaces the defaults' auth; null: none.")
    json_body: Any = Field(default=None, alias="json", description="JSON body (null is a valid body).")
    raw_body: str | None = Field(default=None, alias="body", description="Raw text body.")
    form: dict[str, HeaderText] | None = Field(default=None, description="URL-encoded form body.")
    multipart: dict[str, HeaderText | MultipartFile] | None = Field(
        default=None,
        description="multipart/form-data body: text fields (name: value) and files (name: file).",
    )
    timeout_ms: int | None = Field(default=None, ge=1, le=600_000)
    follow_redirects: bool = False

    @property
    def has_json_body(self) -> bool:
        """``json: null`` sends the JSON text ``null``; an absent ``json`` sends no JSON body."""
        return "json_body" in self.model_fields_set

    @model_validator(mode="after")
    def _one_body_at_most(self) -> RequestSpec:
        bodies = [self.raw_body, self.form, self.multipart]
        if self.has_json_body + sum(body is not None for body in bodies) > 1:
            raise ValueError("a request may have at most one of: json, body, form, multipart")
        return self


class LengthComparison(_Model):
    """Numeric bounds for ``length``, e.g. ``{gte: 1, lte: 10}``."""

    gt: TemplatedNumber | None = None
    gte: TemplatedNumber | None = None
    lt: TemplatedNumber | None = None
    lte: TemplatedNumber | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> LengthComparison:
        if not self.model_fields_set:
            raise ValueError("a length comparison needs at least one of: gt, gte, lt, lte")
        return self


LengthExpectation = Annotated[
    Annotated[TemplatedCount, Tag("count")] | Annotated[LengthComparison, Tag("comparison")],
    Discriminator(lambda v: "comparison" if isinstance(v, dict | LengthComparison) else "count"),
]


class Matcher(_Model):
    """Checks on one value; every key given must hold. Operands may be templates."""

    equals: Any = None
    not_equals: Any = None
    contains: Any = None
    not_contains: Any = None
    matches: str | None = Field(
        default=None, description="Regular expression (RE2 syntax), searched anywhere in the value."
    )
    exists: bool | None = None
    type: Literal["string", "number", "integer", "boolean", "object", "array", "null"] | None = None
    length: LengthExpectation | None = None
    gt: TemplatedNumber | None = None
    gte: TemplatedNumber | None = None
    lt: TemplatedNumber | None = None
    lte: TemplatedNumber | None = None
    one_of: list[Any] | None = Field(default=None, min_length=1)

    @field_validator("matches")
    @classmethod
    def _valid_regex(cls, pattern: str | None) -> str | None:
        if pattern is not None and not has_template(pattern):
            try:
                check_pattern(pattern)
            except PatternError as error:
                raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
        return pattern

    @model_validator(mode="after")
    def _not_empty(self) -> Matcher:
        if not self.model_fields_set:
            raise ValueError(f"a matcher needs at least one of: {', '.join(MATCHER_KEYS)}")
        return self


def _looks_like_matcher(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(key in MATCHER_KEYS for key in value)


def as_matcher(value: Any) -> Matcher | None:
    """The matcher an expected value stands for, or None when it is a literal compared for equality."""
    if isinstance(value, Matcher):
        return value
    return Matcher.model_validate(value) if _looks_like_matcher(value) else None


class _MatcherOrLiteralSchema:
    """JSON Schema of an expected value: validated as a Matcher only when every key is a matcher key."""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        generated = handler(schema)
        matcher_ref = next(choice for choice in generated["oneOf"] if "$ref" in choice)
        only_matcher_keys = {"type": "object", "minProperties": 1, "propertyNames": {"enum": MATCHER_KEYS}}
        return {"if": only_matcher_keys, "then": matcher_ref}


ExpectedValue = Annotated[
    Annotated[Matcher, Tag("matcher")] | Annotated[Any, Tag("literal")],
    Discriminator(lambda v: "matcher" if isinstance(v, Matcher) or _looks_like_matcher(v) else "literal"),
    _MatcherOrLiteralSchema(),
]


class JsonPathCheck(Matcher):
    """One check of the list form of ``expect.json``: a JSONPath, an optional name and matcher keys. The list
    form lets one path carry several checks, each reported on its own (under its name when it has one)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": [key]} for key in MATCHER_KEYS]})

    path: JsonPathExpression
    name: str | None = Field(
        default=None, min_length=1, max_length=200, description="Shown with the check in every report."
    )
    condition: StrictBool | str | None = Field(
        default=None,
        alias="if",
        description="Evaluate the check only when this renders to true (rendered before the request, with "
        "the variables the step sees); otherwise it is reported as skipped with the condition.",
    )

    # Set when the expectation is rendered and the condition is false: why the check is reported as skipped.
    _skipped_because: str | None = PrivateAttr(default=None)

    @property
    def skipped_because(self) -> str | None:
        return self._skipped_because

    @skipped_because.setter
    def skipped_because(self, reason: str | None) -> None:
        self._skipped_because = reason

    @field_validator("condition")
    @classmethod
    def _condition_text(cls, condition: bool | str | None) -> bool | str | None:
        return check_condition_text(condition)

    @model_validator(mode="after")
    def _not_empty(self) -> JsonPathCheck:
        if not self.model_fields_set - {"path", "name", "condition"}:
            raise ValueError(f"a json check needs at least one of: {', '.join(MATCHER_KEYS)}")
        return self

    def matcher(self) -> Matcher:
        """The matcher keys alone (what the value at ``path`` must satisfy)."""
        return Matcher.model_validate(
            self.model_dump(by_alias=True, exclude_unset=True, exclude={"path", "name", "condition"})
        )


JsonPathChecks = Annotated[
    Annotated[dict[JsonPathExpression, ExpectedValue], Tag("mapping")]
    | Annotated[list[JsonPathCheck], Tag("list")],
    Discriminator(
        lambda v: "list" if isinstance(v, list) else "mapping" if isinstance(v, dict) else None,
        custom_error_type="json_checks",
        custom_error_message="json is a mapping of JSONPath to expected value, or a list of checks "
        "with a path",
    ),
]


class StatusRange(_Model):
    min: int = Field(ge=100, le=599)
    max: int = Field(ge=100, le=599)


def _status_code(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise ValueError(f"a status code is an integer from 100 to 599, got {value!r}")
    return value


def _parse_status(value: Any) -> int | list[int] | str | StatusRange:
    if isinstance(value, StatusRange):
        return value
    if isinstance(value, str):
        if not _STATUS_CLASS.match(value):
            raise ValueError(f"a status class looks like '2xx' or '4xx', got {value!r}")
        return value.lower()
    if isinstance(value, list):
        if not value:
            raise ValueError("a list of status codes needs at least one code")
        return [_status_code(code) for code in value]
    if isinstance(value, dict):
        if set(value) != {"min", "max"}:
            raise ValueError("a status range needs exactly the keys min and max")
        low, high = _status_code(value["min"]), _status_code(value["max"])
        if low > high:
            raise ValueError(f"status range min ({low}) is greater than max ({high})")
        return StatusRange(min=low, max=high)
    if isinstance(value, int) and not isinstance(value, bool):
        return _status_code(value)
    raise ValueError(f"status is a code, a list of codes, a class like '2xx' or {{min, max}}, got {value!r}")


_CODE: dict[str, Any] = {"type": "integer", "minimum": 100, "maximum": 599}
_RANGE = {"type": "object", "properties": {"min": _CODE, "max": _CODE}, "required": ["min", "max"]}
_STATUS_SCHEMA = [
    _CODE,
    {"type": "array", "items": _CODE, "minItems": 1},
    {"type": "string", "pattern": _STATUS_CLASS.pattern},
]
StatusExpectation = Annotated[
    int | list[int] | str | StatusRange,
    PlainValidator(_parse_status),
    PlainSerializer(lambda v: v.model_dump() if isinstance(v, StatusRange) else v),
    WithJsonSchema({"anyOf": [*_STATUS_SCHEMA, {**_RANGE, "additionalProperties": False}]}),
]


class Expect(_Model):
    """What a response must satisfy. Every entry becomes one reported check."""

    status: StatusExpectation | None = None
    headers: dict[str, ExpectedValue] = Field(default_factory=dict, description="Case-insensitive names.")
    json_paths: JsonPathChecks = Field(
        default_factory=dict,
        alias="json",
        description="JSONPath (e.g. $.items[0].id) to literal or matcher; or a list of checks "
        "{path, name, matcher keys}.",
    )
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")
    body: ExpectedValue = Field(default=None, description="Literal or matcher against the raw body text.")
    max_ms: int | None = Field(
        default=None, gt=0, le=MAX_RESPONSE_TIME_MS, description="Response time limit in milliseconds."
    )

    @property
    def has_body(self) -> bool:
        return "body" in self.model_fields_set

    def json_checks(self) -> list[tuple[str, Any, str | None, str | None]]:
        """Every json check as (path, expected literal or Matcher, name, why it is skipped or None), in the
        order written. A check is skipped when its ``if`` was found false as the expectation was rendered."""
        if isinstance(self.json_paths, list):
            return [
                (check.path, check.matcher(), check.name, check.skipped_because) for check in self.json_paths
            ]
        return [(path, expected, None, None) for path, expected in self.json_paths.items()]

    @field_validator("headers")
    @classmethod
    def _unique_header_names(cls, headers: dict[str, Any]) -> dict[str, Any]:
        if len({name.lower() for name in headers}) < len(headers):
            raise ValueError("a header is listed twice (header names are case-insensitive)")
        return headers

    @field_validator("json_schema")
    @classmethod
    def _valid_json_schema(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is not None:
            from jsonschema import Draft202012Validator  # with the first test that checks a schema
            from jsonschema.exceptions import SchemaError

            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as error:
                raise ValueError(f"invalid JSON Schema at {error.json_path}: {error.message}") from None
            problems = schema_problems(schema)
            if problems:
                raise ValueError(f"JSON Schema: {problems[0]}")
        return schema


class CaptureSpec(_Model):
    """Where a captured value comes from: exactly one of json, header, status, body."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": [key]} for key in ("json", "header", "status", "body")]}
    )

    json_path: JsonPathExpression | None = Field(default=None, alias="json")
    header: str | None = Field(default=None, min_length=1)
    status: Literal[True] | None = None
    body: Literal[True] | None = None
    default: Any = Field(default=None, description="Used when the path or header is missing.")

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set

    @model_validator(mode="after")
    def _exactly_one_source(self) -> CaptureSpec:
        sources = [self.json_path, self.header, self.status, self.body]
        if sum(source is not None for source in sources) != 1:
            raise ValueError("a capture needs exactly one of: json, header, status, body")
        return self


CaptureValue = Annotated[
    Annotated[JsonPathExpression, Tag("path")] | Annotated[CaptureSpec, Tag("spec")],
    Discriminator(
        lambda v: "path" if isinstance(v, str) else "spec" if isinstance(v, dict | CaptureSpec) else None,
        custom_error_type="capture_kind",
        custom_error_message="a capture is a JSONPath or a mapping with one of: json, header, status, body",
    ),
]
Captures = dict[VariableName, CaptureValue]


class RetrySpec(_Model):
    attempts: int = Field(ge=1, le=1000, description="Total tries, including the first.")
    interval_ms: int = Field(default=500, ge=0, le=600_000)
    until: Expect | None = Field(default=None, description="Poll until this holds; default: until expect.")


class CleanupSpec(_Model):
    """The call that undoes what a passed request step created (entered into the data ledger, sent after
    the teardown). Templates see the step's ``response.status``, ``response.headers.<lowercase name>``,
    ``response.body`` (parsed JSON when it is JSON) and the variables captured; a relative ``url`` (such as
    ``/items/{{ item_id }}`` or a Location header's value) is joined to the environment's base URL."""

    method: Method = HttpMethod.DELETE
    url: str = Field(min_length=1, max_length=8192)
    headers: dict[str, HeaderText] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json", description="JSON body (omit for none).")


class FlowControl(_Model):
    """What every kind of step may add: a condition and a loop (see docs/test-definitions.md#flow-control)."""

    condition: StrictBool | str | None = Field(
        default=None,
        alias="if",
        description="Run the step only when this renders to true (true/false or the strings 'true'/'false').",
    )
    for_each: list[Any] | str | None = Field(
        default=None,
        max_length=MAX_ITERATIONS,
        description=f"Once per item of a list or of a template's list (at most {MAX_ITERATIONS}).",
    )
    repeat: TemplatedCount | None = Field(
        default=None, description=f"Run the step this many times (at most {MAX_ITERATIONS})."
    )
    loop_variable: VariableName = Field(
        default="item", alias="as", description="The name of the current item (for_each) or number (repeat)."
    )

    @field_validator("condition")
    @classmethod
    def _condition_text(cls, condition: bool | str | None) -> bool | str | None:
        return check_condition_text(condition)

    @field_validator("for_each")
    @classmethod
    def _template_or_list(cls, items: list[Any] | str | None) -> list[Any] | str | None:
        if isinstance(items, str) and not has_template(items):
            raise ValueError(f"for_each is a list or a template that renders to one, got {_shown(items)}")
        return items

    @field_validator("repeat")
    @classmethod
    def _bounded_count(cls, count: int | str | None) -> int | str | None:
        if isinstance(count, int) and count > MAX_ITERATIONS:
            raise ValueError(f"repeat is at most {MAX_ITERATIONS}, got {count}")
        return count

    @model_validator(mode="after")
    def _one_loop_at_most(self) -> FlowControl:
        if self.for_each is not None and self.repeat is not None:
            raise ValueError("a step may have for_each or repeat, not both")
        if "loop_variable" in self.model_fields_set and self.for_each is None and self.repeat is None:
            raise ValueError("'as' names the loop variable of for_each or repeat; this step has neither")
        if self.loop_variable == "loop":
            raise ValueError("'loop' holds the loop's index and length; name the loop variable otherwise")
        return self

    @property
    def loops(self) -> bool:
        return self.for_each is not None or self.repeat is not None


FailurePolicy = Literal["continue", "stop"]
_ON_FAILURE = (
    "After a failed check: 'stop' skips the remaining steps (up to the teardown), 'continue' runs them."
)
_ON_ERROR = (
    "After an error (no response, a transport or template error): 'stop' skips the remaining steps, "
    "'continue' runs them."
)
_STATUS_GATES = (
    "When the status check fails, the json, schema and body checks are reported as skipped "
    "('status check failed') instead of being evaluated."
)


MAX_SCRIPT_CHARS = 65_536
MAX_SCRIPTS = 20
Script = Annotated[str, Field(min_length=1, max_length=MAX_SCRIPT_CHARS)]
Scripts = Annotated[list[Script], Field(min_length=1, max_length=MAX_SCRIPTS)]
_SCRIPTS = (
    "Postman JavaScript run in a sandbox with the pm API (see docs/importing.md#postman-scripts); a list "
    "runs in order, each on its own, the variables one sets seen by the next."
)


class RequestStep(FlowControl):
    name: str | None = None
    pre_request_script: Script | Scripts | None = Field(
        default=None, description="Before the request is rendered and sent. " + _SCRIPTS
    )
    request: RequestSpec
    expect: Expect | None = None
    test_script: Script | Scripts | None = Field(
        default=None,
        description="After the response: each pm.test (and tests[...]) is a named check. " + _SCRIPTS,
    )
    on_failure: FailurePolicy | None = Field(default=None, description=_ON_FAILURE + " Default: the test's.")
    on_error: FailurePolicy | None = Field(default=None, description=_ON_ERROR + " Default: the test's.")
    status_gates: StrictBool | None = Field(default=None, description=_STATUS_GATES + " Default: the test's.")
    capture: Captures = Field(default_factory=dict)
    retry: RetrySpec | None = None
    cleanup: CleanupSpec | None = Field(
        default=None, description="How to undo what this step created, whatever the run's verdict."
    )

    def display_name(self, index: int) -> str:
        """The step's name, or its method and (unrendered) URL; ``index`` is 0-based and unused here."""
        return self.name or f"{self.request.method.value} {self.request.url}"


class SetStep(FlowControl):
    name: str | None = None
    assignments: dict[VariableName, Any] = Field(alias="set", min_length=1)

    def display_name(self, index: int) -> str:
        return self.name or "set " + ", ".join(self.assignments)


def _check_duration(value: Any) -> int | float | str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"sleep is a number of milliseconds or a string like '1.5s', got {value!r}")
    duration: int | float | str = value
    milliseconds = _duration_ms(duration) if isinstance(duration, str) else float(duration)
    if not 0 <= milliseconds <= MAX_SLEEP_MS:
        raise ValueError(f"sleep must be between 0 and 1 hour, got {value!r}")
    return duration


def _duration_ms(text: str) -> float:
    match = _DURATION.match(text)
    if match is None:
        example = "use milliseconds or a string like '250ms', '1.5s', '2m'"
        raise ValueError(f"invalid duration {text!r}: {example}")
    return float(match.group(1)) * _DURATION_UNIT_MS[match.group(2)]


class SleepStep(FlowControl):
    name: str | None = None
    sleep: Annotated[
        int | float | str,
        PlainValidator(_check_duration),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "number", "minimum": 0, "maximum": MAX_SLEEP_MS},
                    {"type": "string", "pattern": _DURATION.pattern},
                ]
            }
        ),
    ]

    @property
    def duration_ms(self) -> float:
        return _duration_ms(self.sleep) if isinstance(self.sleep, str) else float(self.sleep)

    def display_name(self, index: int) -> str:
        label = self.sleep.strip() if isinstance(self.sleep, str) else f"{self.sleep:g}ms"
        return self.name or f"sleep {label}"


class IncludeStep(_Model):
    """The steps of a fragment file (``fragment:``, ``params:``, ``steps:``), put in place when the files are
    loaded; the path is relative to the including file. ``with`` gives the fragment's ``{{ params.x }}``."""

    include: str = Field(min_length=1, max_length=1000)
    with_: dict[VariableName, Any] = Field(default_factory=dict, alias="with")

    def display_name(self, index: int) -> str:
        return f"include {self.include}"


_STEP_CLASSES: dict[str, type[BaseModel]] = {
    "request": RequestStep,
    "set": SetStep,
    "sleep": SleepStep,
    "include": IncludeStep,
}


def _step_kind(value: Any) -> str | None:
    for kind, step_class in _STEP_CLASSES.items():
        if isinstance(value, step_class):
            return kind
    if not isinstance(value, dict):
        return None
    present = [kind for kind in _STEP_CLASSES if kind in value]
    return present[0] if len(present) == 1 else None


Step = Annotated[
    Annotated[RequestStep, Tag("request")]
    | Annotated[SetStep, Tag("set")]
    | Annotated[SleepStep, Tag("sleep")]
    | Annotated[IncludeStep, Tag("include")],
    Discriminator(
        _step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step needs exactly one of: request, set, sleep, include",
    ),
]


class FragmentDefinition(_Model):
    """A file of reusable steps. ``params``: names to defaults (null: the including step must give it)."""

    fragment: str = Field(min_length=1, max_length=200, description="What the steps do.")
    params: dict[VariableName, Any] = Field(default_factory=dict)
    steps: list[Step] = Field(min_length=1)


class DataRequirements(BaseModel):
    """Test data a run needs. Before the run a DataPlan is made for it (see docs/dataplan.md) and its values
    are available as ``data.<binding>`` in templates. Other keys are kept as given (and ignored)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    requires: str | None = Field(
        default=None, max_length=4000, description="Free text: the entities and values the test needs."
    )
    operations: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=50,
        description="operationIds of the SUT's OpenAPI whose inputs the test needs (e.g. createOrder).",
    )
    schemas: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=50,
        description="Component schema names of the SUT's OpenAPI to make a valid instance of.",
    )
    seed: int | None = Field(
        default=None, ge=-(2**63), le=2**63 - 1, description="Makes the generated values reproducible."
    )
    leftovers: bool = Field(
        default=False,
        description="Allow the plan to make what it cannot undo (an entity no operation deletes, an update "
        "nothing can write back); otherwise such a plan is refused. What is left is named in the plan's "
        "notes.",
    )

    @property
    def declared(self) -> bool:
        return bool(self.requires or self.operations or self.schemas)


class ParametersFile(_Model):
    """Rows read from a file when the test case file is loaded (CSV with a header line, or a JSON list of
    objects), relative to the test case file; what is stored is the rows themselves."""

    file: str = Field(min_length=1, max_length=1000, pattern=r"(?i)\.(csv|json)$")


ParameterRows = Annotated[
    list[Annotated[dict[VariableName, Any], Field(max_length=200)]],
    Field(min_length=1, max_length=MAX_PARAMETER_ROWS),
]


_RETRY_FAILED = (
    "Run a FAILED run once more, as a new run linked to it (0: never, 1: once); a pass on retry marks the "
    "test flaky. ERROR, TIMED_OUT and CANCELLED runs are not retried."
)


def _integral(value: Any) -> Any:
    """1.0 is the integer 1 in JSON (and JSON Schema); 1.5, "1" and true stay what they are (refused)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


RetryFailed = Annotated[int, Field(strict=True, ge=0, le=MAX_RETRY_FAILED), BeforeValidator(_integral)]


class TestCaseDefinition(_Model):
    __test__: ClassVar[bool] = False  # not a pytest test class

    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    tags: list[str] = Field(default_factory=list)
    variables: dict[VariableName, Any] = Field(
        default_factory=dict, description="Defaults; runs may override."
    )
    data: DataRequirements | None = None
    parameters: ParameterRows | ParametersFile | None = Field(
        default=None,
        description="Data-driven: one run per row, the row's values as variables (over `variables`).",
    )
    timeout_s: float | None = Field(
        default=None, gt=0, le=MAX_RUN_TIMEOUT_S, description="Time limit of the whole run, in seconds."
    )
    defaults: RequestDefaults | None = Field(default=None, description="Inherited by every request step.")
    retry_failed: RetryFailed = Field(
        default=0, description=_RETRY_FAILED + " A suite or the run request may say otherwise."
    )
    on_failure: FailurePolicy = Field(default="stop", description=_ON_FAILURE + " A step may say otherwise.")
    on_error: FailurePolicy = Field(default="stop", description=_ON_ERROR + " A step may say otherwise.")
    status_gates: StrictBool = Field(default=True, description=_STATUS_GATES + " A step may say otherwise.")
    setup: list[Step] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1)
    teardown: list[Step] = Field(default_factory=list)

    def policy_of(self, step: Step) -> tuple[FailurePolicy, FailurePolicy, bool]:
        """The step's (on_failure, on_error, status_gates): its own where it sets them, else the test's."""
        own = step if isinstance(step, RequestStep) else None
        return (
            (own.on_failure if own else None) or self.on_failure,
            (own.on_error if own else None) or self.on_error,
            self.status_gates if own is None or own.status_gates is None else own.status_gates,
        )


class SuiteDefinition(_Model):
    suite: str = Field(min_length=1, max_length=200, description="The suite's name.")
    project: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_NAME,
        pattern=NAME_PATTERN,
        description="The project (name or id) the suite and the test cases it lists belong to.",
    )
    description: str | None = None
    variables: dict[VariableName, Any] = Field(default_factory=dict)
    tests: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1, description='Test case names; "*" alone means every test case of the suite\'s project.'
    )
    parallelism: int | None = Field(default=None, ge=1, le=MAX_PARALLELISM)
    defaults: RequestDefaults | None = Field(
        default=None, description="Inherited by the request steps of the suite's runs (under the test's)."
    )
    retry_failed: RetryFailed | None = Field(
        default=None, description=_RETRY_FAILED + " Over the test cases' own; the run request may override."
    )
    setup: list[Step] = Field(
        default_factory=list,
        description="Steps run once per suite run before any test case starts; every variable they end with "
        "(captures included) is read by the suite's test cases as suite.<name>. When a setup step fails, the "
        "test cases do not run (ERROR, 'suite setup failed').",
    )
    teardown: list[Step] = Field(
        default_factory=list,
        description="Steps run once per suite run after its last test case ended, whatever the verdicts "
        "(also after a failed setup or a cancel); they read suite.<name> too.",
    )

    @field_validator("project", mode="before")
    @classmethod
    def _project_name(cls, value: Any) -> Any:
        if isinstance(value, str) and not is_valid_name(value):
            raise ValueError(f"a project name has {NAME_RULE}, got {_shown(value)}")
        return value

    @field_validator("tests")
    @classmethod
    def _star_alone_and_no_repeats(cls, tests: list[str]) -> list[str]:
        if "*" in tests and len(tests) > 1:
            raise ValueError('"*" must be the only entry of tests')
        repeated = sorted({name for name in tests if tests.count(name) > 1})
        if repeated:
            raise ValueError(f"test case {repeated[0]!r} is listed more than once")
        return tests
