"""The aiokafka clients of the Kafka delivery (``kafka.py``), made so that a broker that
accepts connections and never answers cannot hold a call past the queue's deadline
(``SHUTTERBOX_QUEUE_TIMEOUT_SECONDS``).

How aiokafka meets such a broker: a request waits ``request_timeout_ms`` (40 s unless told),
and so does opening a connection (the broker must answer its ApiVersions request); a
client's ``start()`` makes several such requests, and a consumer subscribed before its
``start()`` also waits there, without end, for its group to hand it partitions; a
producer's ``partitions_for`` answers from the metadata it holds, without asking anyone.
So here:

- the producer's and the admin client's requests time out at the deadline (a publish's
  batch fails then, and the sender closes the silent connection for a new one);
- the consumer's requests get the session timeout on top: a JoinGroup is held open by the
  broker until the group's rebalance ends, up to the rebalance timeout, which aiokafka sets
  to the session timeout (Kafka's own client allows a JoinGroup as much);
- a consumer subscribes after its ``start()`` (bootstrap: the broker answered), so that
  joining its group goes on in the background, waited for by the claims;
- the callers bound each call with ``asyncio.timeout`` besides, since one call may make
  several requests; a client whose start did not end is stopped, and stopping one takes
  the deadline at most;
- ``broker_answers`` asks for the topics' metadata anew, as a check must.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError

from shutterbox.adapters.queue.kafka_settings import KafkaSettings

log = logging.getLogger(__name__)

TOPIC_EXISTS = 36  # Kafka's error code for "Topic with this name already exists"
# A consumer that has not asked for messages for this long leaves its group; a worker pool
# whose workers are all busy asks for none, so this bounds a job's run, not a lease.
MAX_POLL_INTERVAL_MS = 30 * 60 * 1000
# How long the broker holds a fetch open when nothing is there: a new job reaches an idle
# worker at most this late.
FETCH_MAX_WAIT_MS = 100


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


async def ensure_topics(settings: KafkaSettings, deadline: float) -> None:
    """Create both topics if they are missing (a new cluster, or a broker that lost them)."""
    admin = AIOKafkaAdminClient(request_timeout_ms=_ms(deadline), **settings.client_options())
    try:
        await admin.start()
        wanted = [
            NewTopic(name, settings.partitions, settings.replication)
            for name in (settings.topic, settings.bulk_topic)
        ]
        answer = await admin.create_topics(wanted)
        for name, code, message in answer.topic_errors:
            if code not in (0, TOPIC_EXISTS):
                raise RuntimeError(f"could not create the Kafka topic {name}: {message}")
    finally:
        await stop(admin, deadline)


async def start_producer(settings: KafkaSettings, deadline: float) -> Any:
    producer = AIOKafkaProducer(
        acks="all", request_timeout_ms=_ms(deadline), **settings.client_options()
    )
    await _start(producer, deadline)
    for topic in (settings.topic, settings.bulk_topic):  # what its metadata updates ask for
        producer.client.add_topic(topic)
    return producer


async def start_consumer(
    settings: KafkaSettings,
    topic: str,
    group: str,
    listener: ConsumerRebalanceListener,
    deadline: float,
) -> Any:
    """A consumer of ``topic`` in ``group``, connected; it joins the group in the background."""
    consumer = AIOKafkaConsumer(
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=max(100, settings.session_timeout_ms // 4),
        request_timeout_ms=settings.session_timeout_ms + _ms(deadline),
        **settings.client_options(),
    )
    await _start(consumer, deadline)
    consumer.subscribe([topic], listener=listener)
    return consumer


async def broker_answers(producer: Any) -> None:
    """Raise unless a broker answers a request for the topics' metadata now."""
    if not await producer.client.force_metadata_update():
        raise KafkaConnectionError("no Kafka broker answered a metadata request")


async def _start(client: Any, deadline: float) -> None:
    try:
        await client.start()
    except BaseException:  # failed or cut short: nothing of it may linger
        await stop(client, deadline)
        raise


async def stop(client: Any, deadline: float) -> None:
    """Stop a client (leaving its group, sending what it holds), for the deadline at most."""
    closing = client.close if isinstance(client, AIOKafkaAdminClient) else client.stop
    try:
        async with asyncio.timeout(deadline):
            await closing()
    except Exception as error:
        log.info("a Kafka client did not stop cleanly (%r)", error)
