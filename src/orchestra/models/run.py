from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from orchestra.models.base import Base, CreatedAtMixin, IdMixin, TenantMixin
from orchestra.models.run_states import RunStatus

RUN_STATUS = Enum(
    RunStatus,
    name="run_status",
    native_enum=False,
    create_constraint=True,
    length=16,
    values_callable=lambda members: [member.value for member in members],
)


_DURATION = text("(finished_at - started_at)")


class SuiteRun(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """A run of a suite: groups its test runs; its status derives from theirs."""

    __tablename__ = "suite_runs"
    __table_args__ = (
        # The suite-run list (GET /suite-runs) in each of its orders, both directions (migration 0027).
        Index("ix_suite_runs_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_suite_runs_tenant_name", "tenant_id", "name", "id"),
        Index("ix_suite_runs_tenant_status", "tenant_id", "status", "id"),
        Index("ix_suite_runs_tenant_duration", "tenant_id", _DURATION, "id"),
        # A suite's runs, newest first (GET /suite-runs?suite=…).
        Index("ix_suite_runs_suite_created", "suite_id", "created_at", "id"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    suite_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("suites.id", ondelete="SET NULL"))
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id"))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    trigger: Mapped[str] = mapped_column(String(20), nullable=False, default="manual")
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    parallelism: Mapped[int | None] = mapped_column(Integer)  # most of its runs active at once
    # A summary of its runs the database keeps (migration 0027's triggers on test_runs), for the list to
    # filter, sort and index: its status (as suite_status derives it), its first run's start and, once it
    # has ended, its last run's end. Never written here; runs/service.py's get_suite_run derives the same.
    status: Mapped[RunStatus] = mapped_column(
        RUN_STATUS, nullable=False, default=RunStatus.PENDING, server_default=RunStatus.PENDING.value
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TestRun(IdMixin, TenantMixin, CreatedAtMixin, Base):
    """One execution of one test-case version: the unit the scheduler admits and an executor leases."""

    __test__ = False
    __tablename__ = "test_runs"
    __table_args__ = (
        # A PENDING run's place in its tenant's queue (queue order: see queue_key).
        Index(
            "ix_test_runs_pending_queue",
            "tenant_id",
            "queue_key",
            postgresql_where=text("status = 'PENDING'"),
        ),
        # The scheduler's admission scan: PENDING runs by tenant and environment (the SUT), in queue order,
        # so runs for an environment with room are found without walking past those of a full one.
        Index(
            "ix_test_runs_pending_groups",
            "tenant_id",
            "environment_id",
            "queue_key",
            postgresql_where=text("status = 'PENDING'"),
        ),
        # The runs in progress, for the reaper (migration 0031): by a column no step changes, so that a
        # step's update of its run (context, heartbeat, lease) touches no index.
        Index(
            "ix_test_runs_in_progress", "lease_presence_key", postgresql_where=text("status = 'IN_PROGRESS'")
        ),
        Index("ix_test_runs_queued", "queued_at", postgresql_where=text("status = 'QUEUED'")),
        # Active runs by tenant: what every admission pass counts (bounded by the global limit).
        Index(
            "ix_test_runs_active", "tenant_id", postgresql_where=text("status IN ('QUEUED', 'IN_PROGRESS')")
        ),
        Index("ix_test_runs_project_created", "project_id", "created_at"),
        # A test case's runs, newest first: retention's "keep the last N per test case" cut-off (0022).
        Index("ix_test_runs_test_case_created", "test_case_id", "created_at"),
        # The run list, newest first (GET /runs: its page is read backwards along this index).
        Index("ix_test_runs_tenant_created", "tenant_id", "created_at", "id"),
        # The run list by name or by status (GET /runs?sort=…, both directions; migration 0023).
        Index("ix_test_runs_tenant_name", "tenant_id", "name", "id"),
        Index("ix_test_runs_tenant_status", "tenant_id", "status", "id"),
        # … and by duration (migration 0027).
        Index("ix_test_runs_tenant_duration", "tenant_id", _DURATION, "id"),
        # The members of a failure group, latest first.
        Index(
            "ix_test_runs_failure_group",
            "failure_group_id",
            "created_at",
            postgresql_where=text("failure_group_id IS NOT NULL"),
        ),
        # A project's grouped failures in a window, with what the failure-group counts read (index only).
        Index(
            "ix_test_runs_grouped_failures",
            "project_id",
            "created_at",
            postgresql_include=["failure_group_id", "test_case_id", "environment_id"],
            postgresql_where=text("failure_group_id IS NOT NULL"),
        ),
        # A project's runs with a verdict in series order (test case, environment, version, creation), with
        # what flakiness reads: its window functions need no sort and no table visit (migration 0025).
        Index(
            "ix_test_runs_flakiness_series",
            "project_id",
            "test_case_id",
            "environment_id",
            "test_case_version_id",
            "created_at",
            "id",
            postgresql_include=["status", "retry_of_id", "tenant_id"],
            postgresql_where=text(
                "status IN ('PASSED', 'FAILED', 'ERROR', 'TIMED_OUT') AND test_case_id IS NOT NULL "
                "AND test_case_version_id IS NOT NULL"
            ),
        ),
        # The failures not grouped yet (what the grouping pass reads).
        Index(
            "ix_test_runs_ungrouped_failures",
            "project_id",
            "created_at",
            postgresql_where=text(
                "failure_group_id IS NULL AND status IN ('FAILED', 'ERROR', 'TIMED_OUT') "
                "AND test_case_id IS NOT NULL"
            ),
        ),
        # A suite run has at most one setup and one teardown run (migration 0014).
        Index(
            "ix_test_runs_suite_phase",
            "suite_run_id",
            "suite_phase",
            unique=True,
            postgresql_where=text("suite_phase IS NOT NULL"),
        ),
        # A run's retry (at most one): what finds it, and what keeps a second from being made.
        Index(
            "ix_test_runs_retry_of",
            "retry_of_id",
            unique=True,
            postgresql_where=text("retry_of_id IS NOT NULL"),
        ),
        CheckConstraint("retry_failed BETWEEN 0 AND 1", name="retry_failed_range"),
        CheckConstraint(
            "(suite_phase IN ('setup', 'teardown') AND definition IS NOT NULL AND suite_run_id IS NOT NULL"
            " AND test_case_version_id IS NULL) OR (suite_phase IS NULL AND definition IS NULL"
            " AND test_case_id IS NOT NULL AND test_case_version_id IS NOT NULL)",
            name="suite_phase_or_test_case",
        ),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    suite_run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("suite_runs.id", ondelete="CASCADE"), index=True
    )
    # Empty only for a suite run's setup and teardown runs (suite_phase): their steps are in definition.
    test_case_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("test_cases.id", ondelete="CASCADE"), index=True
    )
    test_case_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("test_case_versions.id"))
    suite_phase: Mapped[str | None] = mapped_column(String(10))  # setup | teardown (None: a test)
    definition: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    environment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("environments.id"))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[RunStatus] = mapped_column(RUN_STATUS, nullable=False, default=RunStatus.PENDING)
    status_reason: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Queue order with aging built in: creation time (epoch s) minus priority times the aging interval, so a
    # run waiting long enough passes newer runs of higher priority. Lower goes first.
    queue_key: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    trigger: Mapped[str] = mapped_column(String(20), nullable=False, default="manual")
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The key of the lease holder's presence lock (executor/presence.py): free once its process has ended.
    lease_presence_key: Mapped[int | None] = mapped_column(Integer)
    fencing_token: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    timeout_s: Mapped[float | None] = mapped_column(Float)
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    # The DataPlan the run uses (set by its data phase; a resumed run keeps using it).
    data_plan: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The mute (TestMute) in force for its test case and environment when the run was created, and its
    # reason, kept as they were: a failure of this run does not fail its suite run or the CLI.
    mute_id: Mapped[uuid.UUID | None] = mapped_column()
    mute_reason: Mapped[str | None] = mapped_column(Text)
    # The failure group of its failure (insights/grouping.py; set once the run has failed and been grouped).
    failure_group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("failure_groups.id", ondelete="SET NULL")
    )
    # How many times a FAILED verdict is retried (0 or 1), as set when the run was created; a retry
    # (``retry_of_id``: the run it retries) is never retried itself (runs/retry.py).
    retry_failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    retry_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("test_runs.id", ondelete="CASCADE"))


class StepResult(TenantMixin, Base):
    """The committed outcome of one step of a run. Its existence means: this step is done."""

    __tablename__ = "step_results"
    __table_args__ = (UniqueConstraint("test_run_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    test_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("test_runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    phase: Mapped[str] = mapped_column(String(10), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    fencing_token: Mapped[int] = mapped_column(BigInteger, nullable=False)
    request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    assertions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    duration_ms: Mapped[float] = mapped_column(Float, nullable=False)
