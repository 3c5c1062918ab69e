"""Kombu's Redis transport, keeping one Redis client per channel.

The stock channel builds a new ``redis.Redis`` for every command it sends outside its consumer
loop: each task published and each late acknowledgement. Building one sets up redis-py's table of
response callbacks, about a millisecond of CPU, ten times what the LPUSH itself costs; a webhook
that opened an incident spent more CPU handing its flush to the workers than rendering its
messages. The client is thread-safe and holds no state of its own but the connection pool, so one
per pool serves every command of the channel (docs/production.md, "Broker").

``CELERY_BROKER_TRANSPORT`` names this transport for ``redis://`` and ``rediss://`` brokers
(opsportal/settings/base.py).

``publish`` hands a task to the workers from a hot path (a webhook's commit) for half the CPU of
``send_task``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from celery import current_app
from kombu.transport import redis
from kombu.utils.uuid import uuid


class Channel(redis.Channel):
    _kept_client: Any = None
    _kept_for_pool: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        pool = self.pool  # made anew after a disconnect: a new client goes with it
        if self._kept_client is None or self._kept_for_pool is not pool:
            self._kept_client, self._kept_for_pool = self._create_client(), pool  # type: ignore[attr-defined]
        yield self._kept_client


class Transport(redis.Transport):
    Channel = Channel


def publish(name: str, args: Sequence[int | str]) -> None:
    """``current_app.send_task(name, args=args)`` to the default queue, as the same message (Celery
    builds it) with the same publish retry policy, without what ``send_task`` redoes on every
    call: routing through the configuration, declaring the queue, ``saferepr`` of the arguments.
    For tasks with plain arguments and no options; raises what publishing raises."""
    app, args = current_app, tuple(args)
    headers, properties, body, _ = app.amqp.as_task_v2(
        uuid(), name, args=args, kwargs={}, argsrepr=repr(args), kwargsrepr="{}")
    with app.producer_or_acquire() as producer:
        # The anonymous exchange delivers to the queue named by the routing key, as send_task's does.
        producer.publish(body, exchange="", routing_key=app.conf.task_default_queue, serializer="json",
                         headers=headers, delivery_mode=2, retry=True,
                         retry_policy=app.conf.task_publish_retry_policy, **properties)
