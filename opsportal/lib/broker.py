"""Kombu's Redis transport, keeping one Redis client per channel.

The stock channel builds a new ``redis.Redis`` for every command it sends outside its consumer
loop: each task published and each late acknowledgement. Building one sets up redis-py's table of
response callbacks, about a millisecond of CPU, ten times what the LPUSH itself costs; a webhook
that opened an incident spent more CPU handing its flush to the workers than rendering its
messages. The client is thread-safe and holds no state of its own but the connection pool, so one
per pool serves every command of the channel (docs/production.md, "Broker").

``CELERY_BROKER_TRANSPORT`` names this transport for ``redis://`` and ``rediss://`` brokers
(opsportal/settings/base.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis


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
