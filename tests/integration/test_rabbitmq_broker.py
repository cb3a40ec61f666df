"""The RabbitMQ broker against a real RabbitMQ (ORCHESTRA_TEST_AMQP_URL); each test has a queue of its own."""

# ruff: noqa: F811  (the fixtures imported from tests.integration.amqp are test parameters of the same name)

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import pytest
from aio_pika import DeliveryMode
from aio_pika.exceptions import ChannelPreconditionFailed
from structlog.testing import capture_logs

from orchestra.broker.protocol import Broker
from orchestra.broker.rabbitmq import BrokerUnavailable, PublishFailed, RabbitMQBroker, redact_url
from orchestra.broker.rabbitmq_delivery import RabbitDelivery
from tests.integration.amqp import (
    OutageProxy,
    amqp_proxy,  # noqa: F401 (a fixture)
    amqp_queue,  # noqa: F401 (a fixture)
    amqp_url,  # noqa: F401 (a fixture)
    delete_queue,
    eventually,
    kill_connections,
    publish_raw,
    rabbitmqctl_available,
    raw_channel,
    ready_count,
    with_connection_name,
)

WAIT_S = 30.0

needs_rabbitmqctl = pytest.mark.skipif(
    not rabbitmqctl_available(), reason="rabbitmqctl is not on PATH: cannot close connections server-side"
)


@contextlib.asynccontextmanager
async def connected(url: str, queue: str, **options: Any) -> AsyncIterator[RabbitMQBroker]:
    broker = RabbitMQBroker(url, queue=queue, **options)
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.close()


def as_broker(broker: RabbitMQBroker) -> Broker:
    """Where mypy checks that RabbitMQBroker implements the Broker protocol."""
    return broker


class Consumer:
    """Drains one ``deliveries()`` generator in a task, the way the executor does, acking or not."""

    def __init__(self, broker: RabbitMQBroker, *, ack: bool = True) -> None:
        self.broker = broker
        self.ack = ack
        self.received: asyncio.Queue[RabbitDelivery] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def _drain(self) -> None:
        async with contextlib.aclosing(self.broker.deliveries()) as deliveries:
            async for delivery in deliveries:
                if self.ack:
                    await delivery.ack()
                self.received.put_nowait(delivery)

    async def __aenter__(self) -> Consumer:
        self.task = asyncio.create_task(self._drain())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def take(self, count: int, timeout_s: float = WAIT_S) -> list[RabbitDelivery]:
        taken: list[RabbitDelivery] = []
        async with asyncio.timeout(timeout_s):
            while len(taken) < count:
                taken.append(await self.received.get())
        return taken

    async def assert_nothing_more(self, within_s: float = 0.5) -> None:
        """No further delivery within a short wait (proving an absence takes a wait)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within_s):
                extra = await self.received.get()
                pytest.fail(f"unexpected delivery {extra!r}")


async def wait_for_event(logs: Sequence[Mapping[str, Any]], event: str, timeout_s: float = WAIT_S) -> None:
    async def logged() -> bool:
        return any(entry["event"] == event for entry in logs)

    await eventually(logged, timeout_s, f"log event {event}")


async def publish_eventually(broker: RabbitMQBroker, run_ids: Sequence[uuid.UUID]) -> None:
    """Publish as the scheduler would: a failed pass is simply repeated."""
    async with asyncio.timeout(WAIT_S):
        while True:
            try:
                await broker.publish(run_ids)
                return
            except PublishFailed:
                await asyncio.sleep(0.2)


async def test_published_ids_are_consumed_exactly_once(amqp_url: str, amqp_queue: str) -> None:
    run_ids = [uuid.uuid4() for _ in range(100)]
    async with connected(amqp_url, amqp_queue) as broker, Consumer(broker) as consumer:
        await broker.publish(run_ids)
        received = await consumer.take(len(run_ids))
        await consumer.assert_nothing_more()
    assert all(isinstance(delivery.run_id, uuid.UUID) for delivery in received)
    assert sorted(delivery.run_id for delivery in received) == sorted(run_ids)
    assert await ready_count(amqp_url, amqp_queue) == 0  # every one acked, none requeued at close


async def test_messages_are_persistent_and_carry_only_the_id(amqp_url: str, amqp_queue: str) -> None:
    run_id = uuid.uuid4()
    async with connected(amqp_url, amqp_queue) as broker:
        await broker.publish([run_id])
    async with raw_channel(amqp_url) as channel:
        queue = await channel.declare_queue(amqp_queue, passive=True)
        message = await queue.get(timeout=10)
        await message.ack()
    assert message.delivery_mode == DeliveryMode.PERSISTENT
    assert message.body == str(run_id).encode()
    assert message.content_type == "text/plain"
    assert message.message_id == str(run_id)
    assert message.headers == {}
    assert message.expiration is None


async def test_queue_is_durable(amqp_url: str, amqp_queue: str) -> None:
    async with connected(amqp_url, amqp_queue):
        pass
    async with raw_channel(amqp_url) as channel:
        # Redeclaring with other properties is refused: the queue exists, and it is durable.
        with pytest.raises(ChannelPreconditionFailed, match="durable"):
            await channel.declare_queue(amqp_queue, durable=False)


async def test_prefetch_limits_unacked_deliveries(amqp_url: str, amqp_queue: str) -> None:
    run_ids = [uuid.uuid4() for _ in range(5)]
    async with (
        connected(amqp_url, amqp_queue, prefetch=2) as broker,
        Consumer(broker, ack=False) as consumer,
    ):
        await broker.publish(run_ids)
        first = await consumer.take(2)

        async def three_ready() -> bool:
            return await ready_count(amqp_url, amqp_queue) == 3

        await eventually(three_ready, what="RabbitMQ holds back all but 2 messages")
        await consumer.assert_nothing_more()
        await first[0].ack()  # one slot frees: exactly one more arrives
        await consumer.take(1)
        await consumer.assert_nothing_more()


async def test_unacked_message_is_redelivered_to_the_next_consumer(amqp_url: str, amqp_queue: str) -> None:
    run_id = uuid.uuid4()
    async with connected(amqp_url, amqp_queue) as first, Consumer(first, ack=False) as consumer:
        await first.publish([run_id])
        [held] = await consumer.take(1)
    with capture_logs() as logs:
        await held.ack()  # its channel is gone: reported, not raised
    assert [entry["event"] for entry in logs] == ["broker.ack_lost"]
    async with connected(amqp_url, amqp_queue) as second, Consumer(second) as consumer:
        [again] = await consumer.take(1)
    assert again.run_id == run_id


async def test_bad_message_is_rejected_and_skipped(amqp_url: str, amqp_queue: str) -> None:
    run_id = uuid.uuid4()
    with capture_logs() as logs:
        async with connected(amqp_url, amqp_queue) as broker:
            await publish_raw(amqp_url, amqp_queue, b"not a run id")
            await broker.publish([run_id])
            async with Consumer(broker) as consumer:
                [delivery] = await consumer.take(1)
                await consumer.assert_nothing_more()
    assert delivery.run_id == run_id
    [bad] = [entry for entry in logs if entry["event"] == "broker.bad_message"]
    assert bad["body"] == "not a run id"
    assert await ready_count(amqp_url, amqp_queue) == 0  # rejected for good, not requeued


async def test_close_ends_deliveries_and_is_idempotent(amqp_url: str, amqp_queue: str) -> None:
    broker = RabbitMQBroker(amqp_url, queue=amqp_queue)
    await broker.connect()
    assert await broker.is_healthy()
    async with Consumer(broker) as consumer:
        await broker.publish([uuid.uuid4()])
        await consumer.take(1)  # the consumer is running
        await broker.close()
        assert consumer.task is not None
        async with asyncio.timeout(10):
            await consumer.task  # the generator ended by itself
    await as_broker(broker).close()
    assert not await broker.is_healthy()
    with pytest.raises(RuntimeError, match="closed"):
        await broker.publish([uuid.uuid4()])
    assert [delivery async for delivery in broker.deliveries()] == []


async def test_publish_raises_when_rabbitmq_cannot_route(amqp_url: str, amqp_queue: str) -> None:
    async with connected(amqp_url, amqp_queue) as broker:
        await delete_queue(amqp_url, amqp_queue)
        with pytest.raises(PublishFailed, match="2 of 2"):
            await broker.publish([uuid.uuid4(), uuid.uuid4()])


@needs_rabbitmqctl
async def test_deliveries_and_publish_survive_a_server_side_connection_drop(
    amqp_url: str, amqp_queue: str
) -> None:
    name = f"orchestra-test-{uuid.uuid4().hex[:12]}"
    async with (
        connected(with_connection_name(amqp_url, name), amqp_queue) as broker,
        Consumer(broker) as consumer,
    ):
        before = uuid.uuid4()
        await broker.publish([before])
        assert [delivery.run_id for delivery in await consumer.take(1)] == [before]
        with capture_logs() as logs:
            assert await kill_connections(name) == 1
            await wait_for_event(logs, "broker.reconnected")
        assert await broker.is_healthy()
        after = [uuid.uuid4() for _ in range(10)]
        await publish_eventually(broker, after)
        received: list[uuid.UUID] = []
        while not set(after) <= set(received):
            received += [delivery.run_id for delivery in await consumer.take(1)]
        assert sorted(received) == sorted(after) or sorted(received) == sorted([*after, before]), received
        assert consumer.task is not None
        assert not consumer.task.done()  # the same generator, still going
    events = [entry["event"] for entry in logs]
    assert "broker.connection_lost" in events


@needs_rabbitmqctl
async def test_ack_after_a_connection_drop_is_harmless(amqp_url: str, amqp_queue: str) -> None:
    name = f"orchestra-test-{uuid.uuid4().hex[:12]}"
    run_id = uuid.uuid4()
    async with (
        connected(with_connection_name(amqp_url, name), amqp_queue) as broker,
        Consumer(broker, ack=False) as consumer,
    ):
        await broker.publish([run_id])
        [held] = await consumer.take(1)
        with capture_logs() as logs:
            assert await kill_connections(name) == 1
            await wait_for_event(logs, "broker.reconnected")
            await held.ack()  # on the dead channel: must not raise
        assert "broker.ack_lost" in [entry["event"] for entry in logs]
        [again] = await consumer.take(1)  # RabbitMQ requeued it; the restored consumer gets it
        assert again.run_id == run_id
        await again.ack()
        await again.ack()  # a second ack is a no-op
        await consumer.assert_nothing_more()


@needs_rabbitmqctl
async def test_messages_buffered_on_a_dead_channel_are_not_handed_out(amqp_url: str, amqp_queue: str) -> None:
    """RabbitMQ requeues them when the channel dies; handing out the old copies too would double the work."""
    name = f"orchestra-test-{uuid.uuid4().hex[:12]}"
    run_ids = [uuid.uuid4() for _ in range(3)]
    async with (
        connected(with_connection_name(amqp_url, name), amqp_queue) as broker,
        contextlib.aclosing(broker.deliveries()) as deliveries,
    ):
        await broker.publish(run_ids)
        async with asyncio.timeout(WAIT_S):
            await anext(deliveries)  # handed out; the other two wait in the consumer's buffer

        async def all_delivered() -> bool:
            return await ready_count(amqp_url, amqp_queue) == 0

        await eventually(all_delivered, what="RabbitMQ delivered all 3 messages")
        with capture_logs() as logs:
            assert await kill_connections(name) == 1
            await wait_for_event(logs, "broker.reconnected")
        async with asyncio.timeout(WAIT_S):
            redelivered = [await anext(deliveries) for _ in run_ids]
        assert sorted(delivery.run_id for delivery in redelivered) == sorted(run_ids)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(deliveries), 0.5)


async def test_unreachable_broker_raises_without_the_password() -> None:
    for url, shown in [
        ("amqp://guest:guest@127.0.0.1:1/", "amqp://guest@127.0.0.1:1/"),
        ("amqp://orchestra:s3cret-Pa55@127.0.0.1:1/vhost", "amqp://orchestra@127.0.0.1:1/vhost"),
    ]:
        broker = RabbitMQBroker(url)
        with pytest.raises(BrokerUnavailable) as raised:
            await broker.connect()
        message = str(raised.value)
        assert shown in message
        assert ":guest@" not in message
        assert "s3cret-Pa55" not in message
        assert raised.value.__cause__ is None
        assert raised.value.__suppress_context__
        await broker.close()


async def test_silent_broker_times_out() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.read()  # until the client gives up
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        broker = RabbitMQBroker(f"amqp://guest:hunter2@127.0.0.1:{port}/", connect_timeout_s=0.5)
        async with asyncio.timeout(10):
            with pytest.raises(BrokerUnavailable, match=r"no connection within 0\.5 s") as raised:
                await broker.connect()
        assert "hunter2" not in str(raised.value)
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("amqp://u:p@host:5672/v", "amqp://u@host:5672/v"),
        ("amqps://u:p%40ss@[::1]/?heartbeat=5", "amqps://u@[::1]/?heartbeat=5"),
        ("amqp://host/", "amqp://host/"),
        ("amqp://u@host/", "amqp://u@host/"),
    ],
)
def test_redact_url(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


async def test_deliveries_and_publish_survive_an_outage(
    amqp_proxy: OutageProxy, amqp_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    """RabbitMQ out of reach for several reconnection attempts: they fail, and a later one succeeds."""
    caplog.set_level(logging.WARNING, logger="aio_pika.robust_connection")
    url = amqp_proxy.url(reconnect_interval="0.5")
    async with connected(url, amqp_queue, publish_timeout_s=0.5) as broker, Consumer(broker) as consumer:
        before = uuid.uuid4()
        await broker.publish([before])
        await consumer.take(1)
        with capture_logs() as logs:
            amqp_proxy.cut()  # the ack of ``before`` may be cut too: RabbitMQ then delivers it again
            await wait_for_event(logs, "broker.connection_lost")
            assert not await broker.is_healthy()
            with pytest.raises(PublishFailed):
                await broker.publish(
                    [uuid.uuid4()]
                )  # this scheduler pass fails; the next one publishes again

            async def attempts_failed() -> bool:
                attempts = [
                    record
                    for record in caplog.records
                    if record.name == "aio_pika.robust_connection"
                    and str(record.msg).startswith("Connection attempt")
                ]
                return len(attempts) >= 2

            await eventually(attempts_failed, what="two reconnection attempts failed")
            amqp_proxy.restore()
            await wait_for_event(logs, "broker.reconnected")
        assert [entry["event"] for entry in logs].count("broker.connection_lost") == 1  # logged once
        assert await broker.is_healthy()
        after = [uuid.uuid4() for _ in range(10)]
        await publish_eventually(broker, after)
        received: list[uuid.UUID] = []
        while not set(after) <= set(received):
            received += [delivery.run_id for delivery in await consumer.take(1)]
        assert sorted(received) == sorted(after) or sorted(received) == sorted([*after, before]), received
        assert consumer.task is not None
        assert not consumer.task.done()
