"""The ledger as users see it: per run, per environment, and the on-demand sweep of an environment."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from orchestra.actor import Actor
from orchestra.config import Settings
from orchestra.environments import service as environments
from orchestra.kit.egress_http import guarded_client
from orchestra.kit.pagination import Page, PageParams
from orchestra.kit.secret_box import SecretBox
from orchestra.ledger.schemas import LedgerEntryOut, LedgerStatus, SweepFailure, SweepReportOut
from orchestra.runs import service as runs
from orchestra.testdata import ledger_store
from orchestra.testdata.sweep import sweep_environment
from orchestra.testdata.undo_calls import undo_timeout_s


async def of_run(session: AsyncSession, actor: Actor, run_id: uuid.UUID) -> list[LedgerEntryOut]:
    await runs.get_run(session, actor, run_id, with_steps=False)  # NotFound for a run not visible
    return [
        LedgerEntryOut.model_validate(entry) for entry in await ledger_store.entries_of_run(session, run_id)
    ]


async def of_environment(
    session: AsyncSession,
    actor: Actor,
    project: str,
    environment: str,
    status: LedgerStatus | None,
    page: PageParams,
) -> Page[LedgerEntryOut]:
    found = await environments.get(session, actor, project, environment)
    rows, total = await ledger_store.environment_page(session, found.id, status, page.limit, page.offset)
    return Page[LedgerEntryOut](
        items=[LedgerEntryOut.model_validate(row) for row in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


async def sweep(
    session: AsyncSession, actor: Actor, project: str, environment: str, box: SecretBox, settings: Settings
) -> SweepReportOut:
    """Undo what the environment's finished runs left behind (failed undos included, tried again)."""
    found = await environments.get(session, actor, project, environment)
    async with guarded_client() as client:
        report = await sweep_environment(session, client, box, found, timeout_s=undo_timeout_s(settings))
    return SweepReportOut(
        cleaned=report.cleaned,
        already_gone=report.already_gone,
        failed=[SweepFailure.model_validate(failure) for failure in report.failed],
    )
