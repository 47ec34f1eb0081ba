"""Where an Autotask API user's zone (base URL) is kept between invocations: a day in the state table, or in
memory for tests and local tools. Discovery itself is the transport's (autotask/transport.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from botocore.exceptions import BotoCoreError, ClientError

from autoxero.observability import logger
from autoxero.state.cache import Cache, CacheEntry

ZONE_CACHE_SECONDS = 86_400.0
ZONE_CACHE_NAME = "autotask-zone"


class ZoneCache(Protocol):
    """Where the discovered zone URL is kept between invocations."""

    def get(self, username: str) -> str | None: ...

    def put(self, username: str, url: str) -> None: ...


class MemoryZoneCache:
    def __init__(self) -> None:
        self._urls: dict[str, str] = {}

    def get(self, username: str) -> str | None:
        return self._urls.get(username.lower())

    def put(self, username: str, url: str) -> None:
        self._urls[username.lower()] = url


class DynamoZoneCache:
    """The zone URL in the state table (`CACHE#autotask-zone`), for a day, for the user that discovered it; and
    what this container last read or wrote there, until the same expiry (a warm container's next run or page
    needs no table read: a zone that moved answers 401, and the transport re-discovers and puts it here)."""

    def __init__(self, cache: Cache, clock: Callable[[], float] = time.time,
                 ttl_seconds: float = ZONE_CACHE_SECONDS) -> None:
        self._cache = cache
        self._clock = clock
        self._ttl = ttl_seconds
        self._known: CacheEntry | None = None

    def get(self, username: str) -> str | None:
        entry = self._known
        if entry is None or entry.owner != username.lower() or entry.expires_at <= self._clock():
            try:
                entry = self._cache.get(ZONE_CACHE_NAME)
            except (ClientError, BotoCoreError):
                logger.warning("autotask zone cache unreadable; discovering the zone")
                return None
        if not entry or entry.owner != username.lower() or entry.expires_at <= self._clock():
            return None
        self._known = entry
        return entry.document

    def put(self, username: str, url: str) -> None:
        self._known = CacheEntry(url, self._clock() + self._ttl, username.lower())
        try:
            self._cache.put(ZONE_CACHE_NAME, self._known)
        except (ClientError, BotoCoreError):
            logger.warning("autotask zone cache not written; the next invocation discovers the zone again")
