"""Settings, read once from ``ORCHESTRA_*`` environment variables (see docs/configuration.md).

Every setting is a scalar (a string, number, flag or path), so the environment is read here in a few lines
rather than through pydantic-settings, whose import alone cost every command about a tenth of its start-up.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ENV_PREFIX = "ORCHESTRA_"


def environment_values(names: Iterable[str]) -> dict[str, str]:
    """The values of the environment variables ``ORCHESTRA_<NAME>`` (the name in any case) of these
    settings, as written: validating them is the model's part."""
    wanted = {f"{ENV_PREFIX}{name}".lower(): name for name in names}
    return {wanted[key.lower()]: value for key, value in os.environ.items() if key.lower() in wanted}


class Settings(BaseModel):
    """Every setting Orchestra reads. Nothing else in the code base reads ``os.environ``.

    A setting is the keyword argument given, else its environment variable ``ORCHESTRA_<NAME>``, else its
    default; values are validated as written (``"8"`` is 8, ``"true"`` and ``"1"`` are true), and unknown
    ``ORCHESTRA_*`` variables are ignored."""

    model_config = ConfigDict(extra="ignore", validate_default=True)

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**environment_values(type(self).model_fields), **values})

    data_dir: Path = Field(
        default=Path(".orchestra"),
        description="Local data directory of embedded mode (PostgreSQL data, generated files).",
    )
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (postgresql://user:pass@host:port/db). Unset: embedded PostgreSQL "
        "under <data_dir>/pg.",
    )
    broker_url: str | None = Field(
        default=None,
        description="RabbitMQ URL (amqp://user:pass@host:5672/vhost). Unset: the in-process broker "
        "(embedded mode only).",
    )
    broker_queue: str = Field(default="orchestra.runs", description="RabbitMQ queue carrying run ids.")
    host: str = Field(default="127.0.0.1", description="Address `orchestra up` listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `orchestra up` listens on.")
    server: str | None = Field(
        default=None, description="URL of a running Orchestra the CLI submits to (same as --server)."
    )
    token: str | None = Field(default=None, description="API token the CLI sends (same as --token).")
    tenant: str = Field(default="default", description="Tenant used by embedded mode and the CLI.")
    executor_concurrency: int = Field(
        default=8, ge=1, le=4096, description="Runs one executor process works on at the same time."
    )
    executor_db_connections: int = Field(
        default=32,
        ge=1,
        le=1000,
        description="Runs of one executor that hold a database connection for their whole run (their step "
        "commits are one round trip each); the runs beyond it take a pooled connection per statement. Bounds "
        "the process's connections (about twice this, plus a few), whatever its concurrency.",
    )
    max_active_runs: int = Field(
        default=32, ge=1, description="Global limit of runs QUEUED or IN_PROGRESS at once."
    )
    scheduler_interval_s: float = Field(
        default=0.5, gt=0, description="Pause between scheduling passes when nothing wakes the scheduler."
    )
    leader_retry_s: float = Field(
        default=1.0, gt=0, description="How often a standby scheduler tries to take over leadership."
    )
    scheduler_batch_size: int = Field(default=100, ge=1, description="Runs admitted per scheduling pass.")
    lease_s: float = Field(default=30.0, gt=0, description="Lease length of a run taken by an executor.")
    otlp_endpoint: str | None = Field(
        default=None,
        description="OpenTelemetry collector (OTLP over HTTP, e.g. http://otel-collector:4318) that receives "
        "the traces of runs. Unset: no traces.",
    )
    metrics_token: str | None = Field(
        default=None,
        min_length=16,
        description="Bearer token a Prometheus scraper sends to /metrics. Unset: the API does not serve "
        "/metrics (404); an executor's health port and the ai-service serve it without a token.",
    )
    executor_health_port: int = Field(
        default=8001, ge=0, le=65535, description="Port of `orchestra executor`'s health endpoints (0: none)."
    )
    heartbeat_s: float = Field(
        default=2.0,
        gt=0,
        description="How often a running run's lease is renewed and its cancel flag read (at most lease/3).",
    )
    max_attempts: int = Field(
        default=3, ge=1, description="Attempts a run gets before a lost lease ends it in ERROR."
    )
    default_step_timeout_ms: int = Field(
        default=30_000, ge=1, description="Per-request timeout when a step sets none."
    )
    record_body_limit: int = Field(
        default=65_536, ge=0, description="Bytes of each request/response body kept in step results."
    )
    record_header_limit: int = Field(
        default=8_192, ge=0, description="Bytes of each header value kept in step results."
    )
    max_response_bytes: int = Field(
        default=33_554_432, ge=1024, description="Largest SUT response body a step reads; larger is an error."
    )
    max_variable_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest value a capture or `set` may store in a variable."
    )
    max_next_request_jumps: int = Field(
        default=100,
        ge=0,
        le=100_000,  # each jump records a step; far below the step results a run may hold
        description="Jumps Postman scripts' setNextRequest may make in one run; past them it is an ERROR.",
    )
    max_request_bytes: int = Field(
        default=2_097_152, ge=1024, description="Largest request body the REST API accepts."
    )
    examples_dir: Path | None = Field(
        default=None,
        description="Folder of the demo suite `orchestra up` loads (default: examples/demo in the source).",
    )
    web_dir: Path | None = Field(
        default=None,
        description="Folder of the built web application served at / (default: the one shipped in the "
        "package, built from web/ by `make web`).",
    )
    log_level: str = Field(default="info", description="Log level: debug, info, warning, error.")
    log_json: bool = Field(default=False, description="Write logs as JSON lines instead of console text.")
    migration_database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of the schema owner, used to migrate (the services connect with "
        "database_url as the application role). Unset: migrations use database_url.",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="OpenID Connect issuer URL (e.g. https://kc.example.com/realms/orchestra). Unset: only "
        "API tokens (and the local admin token) are accepted.",
    )
    oidc_audience: str = Field(
        default="orchestra", description="Audience (aud, or azp) an access token must be issued for."
    )
    oidc_client_id: str | None = Field(
        default=None,
        description="Client whose roles (resource_access.<client>.roles) count. Unset: oidc_audience.",
    )
    oidc_web_client_id: str | None = Field(
        default=None,
        description="Public OpenID Connect client the web application signs in with (authorization code "
        "+ PKCE; its tokens must carry oidc_audience). Unset: the web application offers token sign-in only.",
    )
    oidc_tenant_claim: str = Field(
        default="tenant", description="Claim that names the user's tenant (dots reach into objects)."
    )
    oidc_leeway_s: float = Field(
        default=30.0, ge=0, le=300, description="Clock skew allowed when checking exp and nbf."
    )
    oidc_jwks_refresh_s: float = Field(
        default=30.0,
        ge=0,
        description="Least time between two JWKS fetches caused by tokens with an unknown key id.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that encrypts environment secrets at rest (32 bytes, base64). Unset: read from "
        "secret_key_file.",
    )
    secret_key_file: Path | None = Field(
        default=None,
        description="File holding the secret key. Unset: <data_dir>/secret.key, created (mode 0600) on "
        "first start.",
    )
    ai_url: str | None = Field(
        default=None,
        description="Base URL of the ai-service (`orchestra ai`). Unset: `orchestra up` starts one "
        "in-process on ai_port and the API calls it there.",
    )
    ai_port: int = Field(default=8002, ge=0, le=65535, description="Port the ai-service listens on.")
    api_url: str | None = Field(
        default=None,
        description="Base URL of the API as the ai-service reaches it (its tool endpoints). Unset: "
        "http://<host>:<port> of this process.",
    )
    ai_timeout_s: float = Field(
        default=120.0, gt=0, description="Longest the API waits for one answer of the ai-service."
    )
    ollama_url: str | None = Field(
        default=None,
        description="Ollama server (http://127.0.0.1:11434). Unset: no model; the built-in planner, "
        "embedder and evidence summaries are used.",
    )
    ollama_model: str = Field(
        default="qwen2.5:3b", description="Ollama chat model of the planner and assistant."
    )
    ollama_embed_model: str = Field(
        default="nomic-embed-text", description="Ollama embedding model for RAG (with ollama_url)."
    )
    ollama_timeout_s: float = Field(default=60.0, gt=0, description="Longest one Ollama request may take.")
    planner_repair_attempts: int = Field(
        default=2,
        ge=0,
        le=10,
        description="Repairs of a DataPlan, counted apart in two places: in the ai-service, the times a "
        "model's plan that fails validation is sent back to it with its problems (per plan asked for); in "
        "the executor, the times a run sends a plan whose calls the SUT refused (4xx) back to the planner "
        "(per run; 0: the first refusal ends the run in error).",
    )
    live_updates: Literal["listen", "poll"] = Field(
        default="listen",
        description="How live streams (run and suite-run events) learn of new steps: listen (PostgreSQL "
        "LISTEN/NOTIFY, one connection per process) or poll (each stream reads every live_poll_s; for a "
        "database reached through a pooler in transaction mode, where LISTEN does not work).",
    )
    live_safety_s: float = Field(
        default=10.0,
        gt=0,
        description="With live_updates=listen: how often an idle stream sends a keep-alive, and reads while "
        "the listener is reconnecting.",
    )
    live_poll_s: float = Field(
        default=0.25, gt=0, description="With live_updates=poll: how often each live stream reads."
    )
    webhook_delivery: bool = Field(
        default=True,
        description="Whether this process delivers webhooks (API processes and `orchestra up`; every replica "
        "may: deliveries are claimed with FOR UPDATE SKIP LOCKED).",
    )
    webhook_poll_interval_s: float = Field(
        default=1.0, gt=0, description="How often a deliverer looks for webhook deliveries that are due."
    )
    webhook_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="Longest one webhook request may take."
    )
    webhook_max_attempts: int = Field(
        default=8, ge=1, le=50, description="Attempts of a webhook delivery before it is marked failed."
    )
    webhook_backoff_base_s: float = Field(
        default=10.0, gt=0, description="Wait before a webhook delivery's 2nd attempt; doubled after each."
    )
    webhook_backoff_max_s: float = Field(
        default=3600.0, gt=0, description="Longest wait between two attempts of a webhook delivery."
    )
    webhook_allow_private_network: bool = Field(
        default=False,
        description="Whether webhook targets may be loopback or private addresses (an installation whose "
        "chat or receiver runs on its own network). Link-local and metadata addresses never are.",
    )
    ledger_sweep_interval_s: float = Field(
        default=60.0,
        ge=0,
        description="How often the scheduler cleans the ledgers of runs that ended without cleaning "
        "(0: never).",
    )
    retention_interval_s: float = Field(
        default=300.0,
        ge=0,
        description="How often the scheduler deletes the finished runs projects no longer keep (their "
        "retention policy; 0: never).",
    )
    retention_batch_rows: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Most rows of a kind (step results, runs) the retention sweep deletes per transaction.",
    )
    retention_batch_pause_s: float = Field(
        default=0.01,
        ge=0,
        le=10,
        description="Pause between two retention batches, leaving the database to the API's queries.",
    )
