from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from orchestra.definitions.testcase_model import RequestDefaults
from orchestra.kit.egress import MAX_ALLOWED_HOSTS, MAX_HOST_LENGTH, normalise_host_pattern
from orchestra.kit.json_storage import StorableJson, json_storage_problem
from orchestra.limits.schemas import ActiveRunsLimit, RequestRate
from orchestra.models import Environment
from orchestra.projects.schemas import NAME_PATTERN

MAX_KEYS = 200
MAX_BASE_URL = 2000
MAX_SECRET_LENGTH = 10_000
# The executor exposes variables as ``env.<key>`` next to ``env.base_url``, which would shadow a variable.
RESERVED_VARIABLES = frozenset({"base_url"})


def normalise_base_url(value: str) -> str:
    """An absolute http(s) URL without a trailing slash, so ``{{ env.base_url }}/path`` joins cleanly."""
    if any(ch.isspace() or ord(ch) < 32 or 127 <= ord(ch) <= 159 for ch in value):  # C0, DEL and C1
        raise ValueError("base_url must not contain whitespace or control characters")
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a port that is not a number from 0 to 65535
    except ValueError as error:
        raise ValueError(f"base_url is not a valid URL: {error}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(
            "base_url must be an absolute http:// or https:// URL with a host, e.g. http://localhost:8080"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError("base_url must not contain credentials; keep them in secrets")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ValueError("base_url must not have a query or a fragment")
    normalised = value.rstrip("/")
    if len(normalised) > MAX_BASE_URL:
        raise ValueError(f"base_url must be at most {MAX_BASE_URL} characters")
    return normalised


# What normalise_base_url accepts, as far as a pattern can say it (declared in the schema only: the
# validator's messages are the clearer ones).
# \s of the description's (ECMA) regular expressions is not Python's: U+0085 is whitespace only to Python,
# so the control ranges (C0, DEL, C1) are spelt out.
BASE_URL_PATTERN = (
    "^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~-]+(:[0-9]{1,4})?(/[^\\s?#\\x00-\\x1f\\x7f-\\x9f]*)?$"
)
BaseUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_BASE_URL,
        json_schema_extra={"pattern": BASE_URL_PATTERN},
        description="An absolute http:// or https:// URL, without credentials, query or fragment.",
    ),
    AfterValidator(normalise_base_url),
]
Key = Annotated[str, Field(min_length=1, max_length=200)]
SecretValue = Annotated[str, Field(max_length=MAX_SECRET_LENGTH)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=NAME_PATTERN)]


def _check_variables(variables: dict[str, Any] | None) -> dict[str, Any] | None:
    if variables is None:
        return None
    if len(variables) > MAX_KEYS:
        raise ValueError(f"at most {MAX_KEYS} variables are allowed")
    reserved = sorted(RESERVED_VARIABLES & set(variables))
    if reserved:
        raise ValueError(f"'{reserved[0]}' is reserved (it is the environment's base_url field)")
    problem = json_storage_problem(variables)
    if problem:
        raise ValueError(f"{problem[0]}: {problem[1]}" if problem[0] else problem[1])
    return variables


def _check_secrets(secrets: dict[str, Any] | None) -> dict[str, Any] | None:
    if secrets is None:
        return None
    if len(secrets) > MAX_KEYS:
        raise ValueError(f"at most {MAX_KEYS} secrets are allowed")
    problem = json_storage_problem(secrets)
    if problem:
        raise ValueError(f"{problem[0]}: {problem[1]}" if problem[0] else problem[1])
    return secrets


def _unique(hosts: list[str] | None) -> list[str] | None:
    return None if hosts is None else list(dict.fromkeys(hosts))


# Egress (kit/egress.py): names, IP literals or "*.example.com", stored lower-cased and without duplicates.
_LABEL = "[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_LAST_LABEL = "[A-Za-z_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"  # a number there would read as an IP address
_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# What normalise_host_pattern accepts, as far as a pattern can say it (IPv6 literals aside).
ALLOWED_HOST_PATTERN = (
    f"^(\\*\\.({_LABEL}\\.)+{_LAST_LABEL}|({_LABEL}\\.)*{_LAST_LABEL}|({_OCTET}\\.){{3}}{_OCTET})$"
)
AllowedHost = Annotated[
    str,
    Field(min_length=1, max_length=MAX_HOST_LENGTH, json_schema_extra={"pattern": ALLOWED_HOST_PATTERN}),
    AfterValidator(normalise_host_pattern),
]
AllowedHosts = Annotated[
    list[AllowedHost],
    Field(
        max_length=MAX_ALLOWED_HOSTS,
        description="Hosts the executor may call besides the base URL's host: exact names, IP addresses, "
        "or *.example.com for any subdomain (not example.com itself). No scheme, port or path.",
    ),
    AfterValidator(_unique),
]
ALLOW_PRIVATE_NETWORK = (
    "Allow loopback and private addresses (127/8, 10/8, 172.16/12, 192.168/16, 100.64/10, ::1, fc00::/7). "
    "Link-local and cloud metadata addresses are never allowed."
)

Variables = Annotated[
    dict[Key, StorableJson],
    Field(json_schema_extra={"maxProperties": MAX_KEYS, "not": {"required": sorted(RESERVED_VARIABLES)}}),
    AfterValidator(_check_variables),
]
Secrets = Annotated[dict[Key, SecretValue], AfterValidator(_check_secrets)]
DEFAULTS = (
    "Request defaults every request to it inherits: headers, query, auth, timeout_ms (the suite's, the test "
    "case's and the step's own override them). Keep credentials in secrets: '{{ secrets.token }}'."
)


def stored_defaults(defaults: RequestDefaults | None) -> dict[str, Any]:
    """Request defaults as stored (and as a run reads them): what was given, in the written order."""
    return {} if defaults is None else defaults.model_dump(mode="json", by_alias=True, exclude_unset=True)


SecretChanges = Annotated[dict[Key, SecretValue | None], AfterValidator(_check_secrets)]


class EnvironmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    base_url: BaseUrl
    variables: Variables = Field(default_factory=dict)
    secrets: Secrets = Field(default_factory=dict, description="Write-only: never returned.")
    idempotency_keys: bool = Field(
        default=True, description="Send an Idempotency-Key header, stable across attempts of a step."
    )
    max_active_runs: ActiveRunsLimit | None = None
    max_requests_per_s: RequestRate | None = None
    allowed_hosts: AllowedHosts = Field(default_factory=list)
    allow_private_network: bool = Field(default=False, description=ALLOW_PRIVATE_NETWORK)
    defaults: RequestDefaults | None = Field(default=None, description=DEFAULTS)


class EnvironmentPut(BaseModel):
    """Create the environment or update it. ``variables`` and ``secrets`` replace the stored maps when
    given and are kept when omitted (secrets are never returned, so a read-modify-write must not lose them);
    send ``"secrets": {}`` to remove every secret. The limits likewise: given (null: no limit) they are set,
    omitted they are kept; and so are ``allowed_hosts`` and ``allow_private_network``."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = Field(default=None, description="Optional; must equal the name in the URL.")
    base_url: BaseUrl
    variables: Variables | None = None
    secrets: Secrets | None = Field(default=None, description="Write-only: never returned.")
    idempotency_keys: bool | None = None
    max_active_runs: ActiveRunsLimit | None = None
    max_requests_per_s: RequestRate | None = None
    allowed_hosts: AllowedHosts | None = None
    allow_private_network: bool | None = Field(default=None, description=ALLOW_PRIVATE_NETWORK)
    defaults: RequestDefaults | None = Field(default=None, description=DEFAULTS + " Omitted: kept.")


class EnvironmentUpdate(BaseModel):
    """PATCH: fields given are changed. ``variables`` replaces the whole map; ``secrets`` is merged:
    keys given are set, a key set to null is removed, other secrets are kept. A limit set to null is
    removed."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    base_url: BaseUrl | None = None
    variables: Variables | None = None
    secrets: SecretChanges | None = Field(default=None, description="Merged; a null value removes the key.")
    idempotency_keys: bool | None = None
    max_active_runs: ActiveRunsLimit | None = None
    max_requests_per_s: RequestRate | None = None
    allowed_hosts: AllowedHosts | None = Field(default=None, description="Replaces the whole list.")
    allow_private_network: bool | None = Field(default=None, description=ALLOW_PRIVATE_NETWORK)
    defaults: RequestDefaults | None = Field(
        default=None, description=DEFAULTS + " Replaces the stored ones; null or {} removes them."
    )


class EnvironmentOut(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    base_url: str
    variables: dict[str, Any]
    secret_names: list[str] = Field(description="Names of the secrets; their values are never returned.")
    idempotency_keys: bool
    max_active_runs: int | None
    max_requests_per_s: float | None
    allowed_hosts: list[str]
    allow_private_network: bool
    defaults: dict[str, Any] = Field(default_factory=dict, description=DEFAULTS)
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, environment: Environment) -> EnvironmentOut:
        return cls(
            id=environment.id,
            project_id=environment.project_id,
            name=environment.name,
            base_url=environment.base_url,
            variables=environment.variables,
            secret_names=sorted(environment.secrets),
            idempotency_keys=environment.idempotency_keys,
            max_active_runs=environment.max_active_runs,
            max_requests_per_s=environment.max_requests_per_s,
            allowed_hosts=list(environment.allowed_hosts),
            allow_private_network=environment.allow_private_network,
            defaults=dict(environment.defaults or {}),
            created_at=environment.created_at,
            updated_at=environment.updated_at,
        )
