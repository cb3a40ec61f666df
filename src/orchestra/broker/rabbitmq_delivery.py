"""One RabbitMQ consumer seen as a stream of run ids, and the delivery handed to the executor.

A message whose channel died before it was handed out is skipped: RabbitMQ requeued it when the channel
closed and redelivers it on the restored channel. An ack that arrives too late is harmless for the same
reason, and leasing in PostgreSQL makes the duplicate a no-op.
"""

from __future__ import annotations

import asyncio
import uuid

import structlog
from aio_pika.abc import AbstractIncomingMessage
from aio_pika.exceptions import CONNECTION_EXCEPTIONS

log = structlog.get_logger(__name__)

_SETTLE_TIMEOUT_S = 5.0


class RabbitDelivery:
    __slots__ = ("_acked", "_message", "run_id")

    def __init__(self, run_id: uuid.UUID, message: AbstractIncomingMessage) -> None:
        self.run_id = run_id
        self._message = message
        self._acked = False

    def __repr__(self) -> str:
        return f"RabbitDelivery(run_id={self.run_id})"

    async def ack(self) -> None:
        """Settle the message (once; again is a no-op). Never raises for a lost channel: RabbitMQ gives the
        message back and leasing decides."""
        if self._acked:
            return
        self._acked = True
        try:
            async with asyncio.timeout(_SETTLE_TIMEOUT_S):
                await self._message.ack()
        except (TimeoutError, *CONNECTION_EXCEPTIONS) as error:
            log.info(
                "broker.ack_lost",
                run_id=str(self.run_id),
                error=f"{type(error).__name__}: {error}",
            )


def channel_is_open(message: AbstractIncomingMessage) -> bool:
    try:
        return not message.channel.is_closed
    except CONNECTION_EXCEPTIONS:  # aio-pika raises ChannelInvalidStateError for a closed channel
        return False


def parse_run_id(message: AbstractIncomingMessage) -> uuid.UUID | None:
    try:
        return uuid.UUID(message.body.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        return None


async def settle_quietly(message: AbstractIncomingMessage, *, requeue: bool) -> None:
    """Reject (dropping it) or requeue a message; a dead channel has already requeued it."""
    if not channel_is_open(message):
        return
    try:
        async with asyncio.timeout(_SETTLE_TIMEOUT_S):
            if requeue:
                await message.nack(requeue=True)
            else:
                await message.reject(requeue=False)
    except (TimeoutError, *CONNECTION_EXCEPTIONS) as error:
        log.info("broker.settle_lost", requeue=requeue, error=f"{type(error).__name__}: {error}")


class Subscription:
    """The buffer one consumer (basic.consume) fills and one ``deliveries()`` generator drains."""

    def __init__(self) -> None:
        self._buffer: asyncio.Queue[AbstractIncomingMessage | None] = asyncio.Queue()
        self._ended = False

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        """The consumer callback; the robust channel re-registers it after a reconnection."""
        if self._ended:  # arrived after the generator stopped: give it back at once
            await settle_quietly(message, requeue=True)
            return
        self._buffer.put_nowait(message)

    def wake(self) -> None:
        """Make ``next_delivery`` return None (the broker is closing)."""
        self._buffer.put_nowait(None)

    async def next_delivery(self) -> RabbitDelivery | None:
        """The next usable delivery, or None once woken up."""
        while True:
            message = await self._buffer.get()
            if message is None or self._ended:
                return None
            if not channel_is_open(message):
                log.debug("broker.stale_message_skipped", message_id=message.message_id)
                continue
            run_id = parse_run_id(message)
            if run_id is not None:
                return RabbitDelivery(run_id, message)
            log.warning(
                "broker.bad_message",
                message_id=message.message_id,
                body=message.body[:64].decode("utf-8", "replace"),
                redelivered=message.redelivered,
            )
            await settle_quietly(message, requeue=False)

    async def end(self) -> None:
        """Stop accepting messages and hand back the ones buffered but never handed out."""
        self._ended = True
        while not self._buffer.empty():
            message = self._buffer.get_nowait()
            if message is not None:
                await settle_quietly(message, requeue=True)
