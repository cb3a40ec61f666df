"""The deliverer: a loop every API replica may run (``Runtime``), sending what the outbox holds.

Each pass lists the tenants with deliveries due (``orchestra_sys_webhook_tenants``), then, inside each
tenant, claims a batch (FOR UPDATE SKIP LOCKED: replicas never claim the same row) giving each delivery one
more attempt and a lease, commits, sends them (signed, through the egress guard), and records each outcome
in a transaction of its own: delivered on a 2xx answer; otherwise due again after an exponential backoff,
or failed after ``webhook_max_attempts``.

Guarantee: at least once. A delivery whose process dies before it records the outcome is claimed again
once its lease has passed; if the receiver had already got it, it gets it again, with the same
``webhook-id`` (the delivery id) to drop it by. An event committed is never lost, and is queued at most
once per webhook (the outbox's unique event key)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import structlog
from sqlalchemy.exc import IntegrityError

from orchestra.config import Settings
from orchestra.db import Database
from orchestra.kit import egress
from orchestra.kit.egress import EgressPolicy, EgressRefused
from orchestra.kit.egress_http import guarded_client
from orchestra.kit.secret_box import SecretBox, SecretDecryptionError
from orchestra.webhooks import formats, repository, service, signing
from orchestra.webhooks.repository import Claimed

log = structlog.get_logger(__name__)

BATCH = 50  # deliveries claimed per tenant and transaction
CONCURRENCY = 10  # requests in flight per deliverer
EXCERPT_BYTES = 1024  # of a receiver's answer, kept in the log
USER_AGENT = "Orchestra-Webhooks/1"


def backoff_s(
    attempt: int, base_s: float, cap_s: float, jitter: Callable[[], float] = random.random
) -> float:
    """The wait after failed attempt number ``attempt`` (1, 2, …): base · 2^(attempt-1), ±25 % jitter (so
    the deliveries that failed together do not retry together), never above ``cap_s``."""
    exponent = min(max(attempt - 1, 0), 60)
    wait: float = base_s * 2**exponent * (0.75 + 0.5 * jitter())
    return min(cap_s, wait)


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    excerpt: str | None
    duration_ms: float

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Deliverer:
    def __init__(self, db: Database, settings: Settings, box: SecretBox) -> None:
        self.db = db
        self.settings = settings
        self.box = box
        self._stopping = False
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None
        self.clock: Callable[[], float] = time.time  # the signature's timestamp (tests set it)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        try:
            while not self._stopping:
                try:
                    sent = await self.run_once()
                except Exception:
                    log.exception("webhook.pass_failed")
                    sent = 0
                if sent >= BATCH:
                    continue  # more may be due
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.webhook_poll_interval_s)
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            await self.close()

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run_once(self) -> int:
        """One pass over every tenant with deliveries due; how many attempts were made."""
        async with self.db.engine.connect() as conn:
            tenants = await repository.tenants_with_due_deliveries(conn)
        made = 0
        gate = asyncio.Semaphore(CONCURRENCY)

        async def deliver(item: Claimed) -> None:
            async with gate:
                await self._deliver(item)

        # a claimed delivery is due again after twice the request timeout and 5 s: long past its request
        lease_s = self.settings.webhook_timeout_s * 2 + 5
        for tenant_id in tenants:
            async with self.db.transaction(tenant_id) as session:
                claimed = await repository.claim(session, BATCH, lease_s)
            await asyncio.gather(*(deliver(item) for item in claimed))
            made += len(claimed)
        return made

    async def _deliver(self, claimed: Claimed) -> None:
        at = datetime.now(UTC)
        context = {
            "delivery_id": str(claimed.id),
            "webhook_id": str(claimed.webhook_id),
            "event_type": claimed.event_type,
            "attempt": claimed.attempt,
        }
        try:
            outcome = await self._send(claimed)
        except Exception as error:  # whatever it was, it is logged on the delivery and retried
            log.exception("webhook.send_failed", **context)
            outcome = Outcome(None, f"internal error: {type(error).__name__}", None, 0.0)
        last = claimed.attempt >= self.settings.webhook_max_attempts
        state = "delivered" if outcome.delivered else "failed" if last else "pending"
        retry = None
        if state == "pending":
            retry = backoff_s(
                claimed.attempt, self.settings.webhook_backoff_base_s, self.settings.webhook_backoff_max_s
            )
        try:
            async with self.db.transaction(claimed.tenant_id) as session:
                decided = await repository.record(
                    session,
                    claimed,
                    at=at,
                    duration_ms=outcome.duration_ms,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    response_excerpt=outcome.excerpt,
                    outcome=state,
                    retry_in_s=retry,
                )
        except IntegrityError:  # the webhook (and so the delivery) was deleted meanwhile
            log.info("webhook.deleted_while_delivering", **context)
            return
        log.info(
            "webhook.attempt",
            outcome=state if decided else "superseded",
            status_code=outcome.status_code,
            error=outcome.error,
            retry_in_s=retry,
            **context,
        )

    async def _body(self, claimed: Claimed) -> bytes:
        async with self.db.transaction(claimed.tenant_id) as session:
            found = await repository.names(session, claimed.project_id, claimed.event)
        event = dict(claimed.event)
        for part in ("run", "suite_run"):
            if isinstance(event.get(part), dict):
                subject = dict(event[part])
                subject["environment"] = found.get("environment")
                if part == "suite_run":
                    subject["name"], subject["suite"] = found.get("suite_run"), found.get("suite")
                event[part] = subject
        body = formats.envelope(
            event_id=str(claimed.event_id),
            event_type=claimed.event_type,
            project={"id": str(claimed.project_id), "name": found.get("project")},
            event=event,
        )
        return formats.render(claimed.kind, body)

    async def _send(self, claimed: Claimed) -> Outcome:
        try:
            url, secret = service.opened(self.box, claimed.webhook_id, claimed.url, claimed.secret)
        except SecretDecryptionError as error:
            return Outcome(None, f"the stored URL or secret cannot be decrypted: {error}", None, 0.0)
        body = await self._body(claimed)
        message_id = str(claimed.id)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "x-orchestra-event": claimed.event_type,
            "x-orchestra-event-id": str(claimed.event_id),
            "x-orchestra-attempt": str(claimed.attempt),
            **signing.headers(secret, message_id, int(self.clock()), body),
        }
        host = httpx.URL(url).host
        policy = EgressPolicy((egress.canonical_host(host),), self.settings.webhook_allow_private_network)
        if self._client is None:
            self._client = guarded_client()
        started = time.perf_counter()
        try:
            with egress.applying(policy):
                async with self._client.stream(
                    "POST", url, content=body, headers=headers, timeout=self.settings.webhook_timeout_s
                ) as response:
                    excerpt = b""
                    async for chunk in response.aiter_bytes():
                        excerpt += chunk
                        if len(excerpt) >= EXCERPT_BYTES:
                            break
            elapsed = (time.perf_counter() - started) * 1000
            text = excerpt[:EXCERPT_BYTES].decode("utf-8", errors="replace")
            code = response.status_code
            problem = None if 200 <= code < 300 else f"the receiver answered {code}"
            return Outcome(code, problem, text or None, elapsed)
        except EgressRefused as refused:
            elapsed = (time.perf_counter() - started) * 1000
            return Outcome(None, f"refused by the egress policy: {refused.reason}", None, elapsed)
        except httpx.HTTPError as failure:
            elapsed = (time.perf_counter() - started) * 1000
            return Outcome(None, f"{type(failure).__name__}: {failure}"[:500], None, elapsed)
