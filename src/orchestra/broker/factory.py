"""The broker a process uses: RabbitMQ when ``ORCHESTRA_BROKER_URL`` is set, else the in-process queue."""

from __future__ import annotations

from orchestra.broker.memory import InProcessBroker
from orchestra.broker.protocol import Broker
from orchestra.config import Settings


async def open_broker(settings: Settings) -> Broker:
    if not settings.broker_url:
        return InProcessBroker()
    from orchestra.broker.rabbitmq import BrokerUnavailable, RabbitMQBroker

    broker = RabbitMQBroker(
        settings.broker_url, queue=settings.broker_queue, prefetch=settings.executor_concurrency
    )
    try:
        await broker.connect()
    except BrokerUnavailable as error:
        raise BrokerUnavailable(f"{error} (check ORCHESTRA_BROKER_URL and that RabbitMQ runs)") from None
    connected: Broker = broker
    return connected
