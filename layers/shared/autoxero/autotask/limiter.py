"""Autotask's thread limit: at most 3 requests in flight per endpoint (docs/autotask.md §8), for the whole stack.

Autotask counts in-flight requests per (API tracking identifier, endpoint), and every invocation of this
stack shares one integration code. An in-process semaphore alone is therefore not enough: two Lambdas
running at once would each allow three. `DynamoLimiter` is a counting semaphore in the state table — N slot
leases per endpoint (`LEASE#autotask-slot#{endpoint}#{n}`) taken by conditional writes, with a short lease
time so a crashed invocation frees its slot on its own — behind an in-process `BoundedSemaphore` fast path
(threads of one invocation queue locally instead of polling DynamoDB). `LocalLimiter` is the in-process
part alone: what tests and the local demo use.

A slot is held for one HTTP request only, never across a retry's back-off.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from botocore.exceptions import BotoCoreError, ClientError

from autoxero.autotask.errors import AutotaskBusy
from autoxero.observability import logger
from autoxero.state.leases import Leases
from autoxero.state.table import StateTable

THREADS_PER_ENDPOINT = 3
DEFAULT_LEASE_SECONDS = 60.0  # > connect (5 s) + read (30 s) timeouts of one request
DEFAULT_WAIT_SECONDS = 30.0


class Limiter(Protocol):
    """Something that hands out a request slot for an endpoint (an Autotask entity) for one request."""

    def slot(self, endpoint: str) -> AbstractContextManager[None]: ...


def _busy(endpoint: str, wait: float) -> AutotaskBusy:
    return AutotaskBusy(
        f"Autotask ({endpoint}) is busy: other work of this sync held all {THREADS_PER_ENDPOINT} request slots "
        f"for {wait:.0f} seconds. The sync will retry on its next run.", kind="slots", entity=endpoint)


class UnlimitedLimiter:
    """No limit at all (a single-threaded script, or a test that wants to provoke Itgenatr005)."""

    @contextmanager
    def slot(self, endpoint: str) -> Iterator[None]:
        yield


class LocalLimiter:
    """At most `per_endpoint` requests in flight per endpoint within this process."""

    def __init__(self, per_endpoint: int = THREADS_PER_ENDPOINT, wait: float = DEFAULT_WAIT_SECONDS) -> None:
        if per_endpoint < 1:
            raise ValueError("per_endpoint must be at least 1")
        self.per_endpoint = per_endpoint
        self.wait = wait
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}

    def _semaphore(self, endpoint: str) -> threading.BoundedSemaphore:
        key = endpoint.lower()
        with self._lock:
            sem = self._semaphores.get(key)
            if sem is None:
                sem = self._semaphores[key] = threading.BoundedSemaphore(self.per_endpoint)
            return sem

    def acquire(self, endpoint: str, timeout: float | None = None) -> threading.BoundedSemaphore:
        sem = self._semaphore(endpoint)
        wait = self.wait if timeout is None else timeout
        if not sem.acquire(timeout=max(0.0, wait)):
            raise _busy(endpoint, wait)
        return sem

    @contextmanager
    def slot(self, endpoint: str) -> Iterator[None]:
        sem = self.acquire(endpoint)
        try:
            yield
        finally:
            sem.release()


def slot_lease_name(endpoint: str, n: int) -> str:
    return f"autotask-slot#{endpoint.lower()}#{n}"


class DynamoLimiter:
    """A counting semaphore shared by every invocation of the stack: N slot leases per endpoint in DynamoDB."""

    def __init__(self, table: StateTable, *, per_endpoint: int = THREADS_PER_ENDPOINT,
                 lease_seconds: float = DEFAULT_LEASE_SECONDS, wait: float = DEFAULT_WAIT_SECONDS,
                 poll: float = 0.05, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic, rng: random.Random | None = None,
                 local: LocalLimiter | None = None) -> None:
        if per_endpoint < 1:
            raise ValueError("per_endpoint must be at least 1")
        self.per_endpoint = per_endpoint
        self.lease_seconds = lease_seconds
        self.wait = wait
        self.poll = poll
        self._leases = Leases(table)
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._local = local or LocalLimiter(per_endpoint, wait)
        # boto3 resources are not thread-safe: one table call at a time from this process (they are short).
        self._table_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.acquired = 0
        self.waits = 0

    def slot_names(self, endpoint: str) -> list[str]:
        return [slot_lease_name(endpoint, n) for n in range(self.per_endpoint)]

    def _try(self, names: list[str], holder: str) -> str | None:
        start = self._rng.randrange(len(names))  # spread contenders over the slots
        for name in names[start:] + names[:start]:
            with self._table_lock:
                if self._leases.acquire(name, holder, self.lease_seconds):
                    return name
        return None

    def _release(self, name: str, holder: str) -> None:
        try:
            with self._table_lock:
                self._leases.release(name, holder)
        except (ClientError, BotoCoreError) as err:
            # The lease expires by itself after lease_seconds; losing the release only delays one request.
            logger.warning("autotask slot release failed", extra={"slot": name, "error": type(err).__name__})

    @contextmanager
    def slot(self, endpoint: str) -> Iterator[None]:
        start = self._monotonic()
        sem = self._local.acquire(endpoint, timeout=self.wait)
        try:
            names = self.slot_names(endpoint)
            holder = Leases.new_holder()
            deadline = start + self.wait
            waited = False
            while (name := self._try(names, holder)) is None:
                remaining = deadline - self._monotonic()
                if remaining <= 0:
                    raise _busy(endpoint, self.wait)
                waited = True
                self._sleep(min(remaining, self.poll * (1 + self._rng.random())))
            with self._stats_lock:
                self.acquired += 1
                self.waits += int(waited)
            try:
                yield
            finally:
                self._release(name, holder)
        finally:
            sem.release()
