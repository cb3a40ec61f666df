"""RabbitMQ broker: one durable queue of run ids, persistent messages, publisher confirms, manual acks.

A message carries only the run id. Losing one loses nothing (the scheduler re-publishes QUEUED runs nobody
leased) and a duplicate runs nothing twice (the lease in PostgreSQL decides), so this module never retries a
publish and never raises from an ack: it reports and lets the database-driven loops converge.

The connection is robust: aio-pika reconnects on its own, redeclares the queue, reapplies the prefetch and
restarts the consumers, so a ``deliveries()`` generator keeps going across connection losses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncGenerator, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import structlog
from aio_pika import DeliveryMode, Message, RobustConnection
from aio_pika.abc import AbstractRobustChannel, AbstractRobustQueue
from aio_pika.connection import make_url
from aio_pika.exceptions import CONNECTION_EXCEPTIONS

from orchestra.broker.rabbitmq_delivery import RabbitDelivery, Subscription
from orchestra.errors import StartupRefused

log = structlog.get_logger(__name__)

_CLOSE_TIMEOUT_S = 5.0
_T = TypeVar("_T")


_AIORMQ_CONNECTION_LOG = "aiormq.connection"


@contextlib.contextmanager
def _silenced(logger_name: str) -> Iterator[None]:
    """No records of this stdlib logger while the block runs."""
    logger = logging.getLogger(logger_name)
    drop = logging.Filter(name="\0")  # matches no logger name: every record is filtered out
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


class BrokerUnavailable(StartupRefused):
    """The first connection to RabbitMQ failed (the URL in the message carries no password)."""


class PublishFailed(Exception):
    """Some messages were not confirmed by RabbitMQ; the scheduler publishes their runs again later."""


def redact_url(url: str) -> str:
    """The URL without its password, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RabbitMQBroker:
    def __init__(
        self,
        url: str,
        *,
        queue: str = "orchestra.runs",
        prefetch: int = 8,
        connect_timeout_s: float = 10.0,
        publish_timeout_s: float = 10.0,
    ) -> None:
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        self._url = url
        self._queue_name = queue
        self._prefetch = prefetch
        self._connect_timeout_s = connect_timeout_s
        self._publish_timeout_s = publish_timeout_s
        self._connection: RobustConnection | None = None
        self._publishing: AbstractRobustChannel | None = None
        self._consuming: AbstractRobustChannel | None = None
        self._queue: AbstractRobustQueue | None = None
        self._subscriptions: set[Subscription] = set()
        self._closed = False
        self._up = False  # to log a loss once, not at every failed reconnection attempt

    @property
    def url(self) -> str:
        """The broker URL without its password."""
        return redact_url(self._url)

    async def connect(self) -> None:
        """Open the connection and both channels; BrokerUnavailable if that fails within the timeout."""
        # aiormq logs a failed attempt itself, bare, to stderr; BrokerUnavailable says it once, clearly.
        with _silenced(_AIORMQ_CONNECTION_LOG):
            await self._connect()

    async def _connect(self) -> None:
        if self._closed:
            raise RuntimeError("the broker is closed")
        if self._connection is not None:
            return
        connection = RobustConnection(make_url(self._url))
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                await connection.connect(timeout=self._connect_timeout_s)
                publishing = await connection.channel(publisher_confirms=True, on_return_raises=True)
                consuming = await connection.channel(publisher_confirms=False)
                await consuming.set_qos(prefetch_count=self._prefetch)
                queue = await consuming.declare_queue(self._queue_name, durable=True)
        except BaseException as error:
            await _close_quietly(connection)  # also when cancelled: no reconnection task may outlive us
            if not isinstance(error, (TimeoutError, *CONNECTION_EXCEPTIONS)):
                raise
            reason = (
                f"no connection within {self._connect_timeout_s:g} s"
                if isinstance(error, TimeoutError)
                else f"{type(error).__name__}: {_scrub(str(error), self._url)}"
            )
            # "from None": the original error could quote the URL, password included.
            raise BrokerUnavailable(f"cannot connect to RabbitMQ at {self.url}: {reason}") from None
        self._up = True
        connection.reconnect_callbacks.add(self._on_reconnected)
        connection.close_callbacks.add(self._on_connection_lost)
        self._connection, self._publishing, self._consuming, self._queue = (
            connection,
            publishing,
            consuming,
            queue,
        )
        log.info("broker.connected", url=self.url, queue=self._queue_name, prefetch=self._prefetch)

    async def publish(self, run_ids: Sequence[uuid.UUID]) -> None:
        """One persistent message per id, confirmed by RabbitMQ; raises if any of them is not."""
        if not run_ids:
            return
        channel = self._require(self._publishing)
        publishes: list[asyncio.Future[Any]] = []
        try:
            async with asyncio.timeout(self._publish_timeout_s):
                await channel.ready()  # waits out a reconnection in progress, within the timeout
                exchange = channel.default_exchange
                publishes = [
                    asyncio.ensure_future(exchange.publish(_message(run_id), routing_key=self._queue_name))
                    for run_id in run_ids
                ]
                results = await asyncio.gather(*publishes, return_exceptions=True)
        except TimeoutError:
            await _cancel_all(publishes)
            raise PublishFailed(
                f"RabbitMQ did not confirm {len(run_ids)} message(s) within {self._publish_timeout_s:g} s"
            ) from None
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            first = errors[0]
            raise PublishFailed(
                f"RabbitMQ did not confirm {len(errors)} of {len(run_ids)} message(s): "
                f"{type(first).__name__}: {first}"
            ) from first

    async def deliveries(self) -> AsyncGenerator[RabbitDelivery, None]:
        """Messages from a consumer of its own, started at the first step; ends when the broker closes."""
        if self._closed:
            return
        queue = self._require(self._queue)
        subscription = Subscription()
        self._subscriptions.add(subscription)
        try:
            consumer_tag = await queue.consume(subscription.on_message, no_ack=False)
        except BaseException:
            self._subscriptions.discard(subscription)
            raise
        try:
            while (delivery := await subscription.next_delivery()) is not None:
                yield delivery
        finally:
            self._subscriptions.discard(subscription)
            await self._unsubscribe(queue, consumer_tag, subscription)

    async def is_healthy(self) -> bool:
        connection = self._connection
        return (
            connection is not None
            and not self._closed
            and not connection.is_closed
            and connection.connected.is_set()
        )

    async def close(self) -> None:
        """Stop consuming, close the channels and the connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for subscription in list(self._subscriptions):
            subscription.wake()
        connection = self._connection
        if connection is None:
            return
        for channel in (self._consuming, self._publishing):
            if channel is not None and not channel.is_closed:
                with contextlib.suppress(TimeoutError, *CONNECTION_EXCEPTIONS):
                    async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                        await channel.close()
        await _close_quietly(connection)
        log.info("broker.closed", url=self.url)

    async def _unsubscribe(
        self, queue: AbstractRobustQueue, consumer_tag: str, subscription: Subscription
    ) -> None:
        """Cancel the consumer (for reconnections too) and requeue what it buffered but never handed out."""
        try:
            if not self._closed:  # a closed broker has no consumers left
                async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                    await queue.cancel(consumer_tag)
        except (TimeoutError, *CONNECTION_EXCEPTIONS) as error:
            log.info(
                "broker.cancel_failed", consumer_tag=consumer_tag, error=f"{type(error).__name__}: {error}"
            )
        finally:
            await subscription.end()

    def _require(self, value: _T | None) -> _T:
        if self._closed:
            raise RuntimeError("the broker is closed")
        if value is None:
            raise RuntimeError("call connect() before using the broker")
        return value

    def _on_reconnected(self, _connection: Any) -> None:
        self._up = True
        log.warning("broker.reconnected", url=self.url)

    def _on_connection_lost(self, _connection: Any, error: BaseException | None) -> None:
        if self._up and not self._closed:
            self._up = False
            log.warning("broker.connection_lost", url=self.url, error=_scrub(repr(error), self._url))


def _message(run_id: uuid.UUID) -> Message:
    text = str(run_id)
    return Message(
        text.encode("ascii"),
        content_type="text/plain",
        message_id=text,
        delivery_mode=DeliveryMode.PERSISTENT,
    )


def _scrub(text: str, url: str) -> str:
    """The text with the URL's password masked, as written in the URL and percent-decoded."""
    password = urlsplit(url).password
    for form in (password, unquote(password or "")):
        if form:
            text = text.replace(form, "******")
    return text


async def _cancel_all(tasks: Sequence[asyncio.Future[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _close_quietly(connection: RobustConnection) -> None:
    with contextlib.suppress(TimeoutError, *CONNECTION_EXCEPTIONS):
        async with asyncio.timeout(_CLOSE_TIMEOUT_S):
            await connection.close()
