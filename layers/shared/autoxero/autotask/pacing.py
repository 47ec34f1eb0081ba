"""A share of Autotask's hourly threshold, not all of it.

Autotask allows a database a number of requests over a rolling 60 minutes (`externalRequestThreshold`,
10,000 by default) and counts every integration of the MSP against it (RMM, backup, quoting, the PSA's own
apps). When the count reaches the threshold, every one of them is refused until the hour rolls over. So
autoxero reads `GET /v1.0/ThresholdInformation` and works only while the database as a whole stays under
`max_database_share` of the threshold, and while autoxero itself stays under `hourly_budget` requests an hour.

The pacer hands out requests in blocks. Before a block it reads ThresholdInformation (one request, counted
like any other) and autoxero's own count for the last hour from the table, and grants the smaller of the two
rooms, at most `block` requests (a run's first blocks are smaller: a quiet run reserves little), reserved in
the table so that concurrent flows share one budget; one request of the room is always kept for the next read.
When there is no room, the request is refused with `AutotaskShareUsed`: the run stops cleanly with its state
saved, and the next scheduled run continues. It also records, for every invocation of the stack, when enough
of autoxero's own requests will have left the rolling hour to make room again; nobody reads the threshold
before then (a read at the share would itself exceed it). A long backfill therefore spreads over as many hours
as the share allows.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from autoxero.autotask.errors import AutotaskShareUsed
from autoxero.autotask.models import ThresholdInformation

if TYPE_CHECKING:
    from autoxero.settings import AutotaskSettings

MIN_BLOCK = 5
MAX_BLOCK = 100
FIRST_BLOCK = 10


WINDOW = 3600.0
RETRY_LATER = 900.0  # when autoxero's own requests cannot make room (the others grew): a schedule tick


class OwnUsage(Protocol):
    """autoxero's own Autotask requests over the rolling hour (the state table's `RequestQuota`)."""

    def reserve(self, requests: int, now: float) -> None: ...

    def by_minute(self, now: float, window: float = WINDOW) -> list[tuple[float, int]]: ...

    def pause(self, until: float) -> None: ...

    def paused_until(self) -> float: ...

    def note_reading(self, threshold: int, count: int, own: int, now: float) -> None: ...


@dataclass(frozen=True, slots=True)
class Room:
    """How many more requests autoxero may make now, and which limit binds."""

    requests: int
    database_count: int
    own_count: int
    binding: str  # "database share" | "hourly budget"


def block_size(threshold: int) -> int:
    """Requests granted per ThresholdInformation read: ~1 % of the threshold (100 of 10,000), so the reads
    cost about 1 % and an overshoot by other integrations between two reads stays small."""
    return max(MIN_BLOCK, min(MAX_BLOCK, threshold // 100))


def room(info: ThresholdInformation, own_count: int, share: Decimal, budget: int) -> Room:
    """The requests autoxero may still make: under `share` of the threshold for the whole database (others'
    requests included) and under `budget` for itself. Pure: the pacer's rule, tested without any I/O."""
    ceiling = math.floor(Decimal(info.externalRequestThreshold) * share)
    database_room = ceiling - info.currentTimeframeRequestCount - 1  # one kept for the next read
    own_room = budget - own_count - 1
    binding = "database share" if database_room <= own_room else "hourly budget"
    return Room(max(0, min(database_room, own_room)), info.currentTimeframeRequestCount, own_count, binding)


def hourly_capacity(threshold: int, database_count: int, own_count: int, share: Decimal, budget: int) -> int:
    """Requests an hour autoxero can count on at the others' current rate: its budget, or what the share leaves
    beside the other integrations, whichever is smaller."""
    others = max(0, database_count - own_count)
    return max(0, min(budget, math.floor(Decimal(threshold) * share) - others))


def resume_at(own: list[tuple[float, int]], needed: int, now: float, window: float = WINDOW) -> float:
    """When enough of autoxero's own requests (end of minute, count) will have left the rolling hour to free
    `needed` requests; a schedule tick from now if they cannot (other integrations took the room)."""
    freed = 0
    for ends, count in sorted(own):
        freed += count
        if freed >= needed:
            return max(now, ends + window)
    return now + RETRY_LATER


class Pacer:
    """Grants Autotask requests to one client, block by block (thread-safe)."""

    def __init__(self, usage: OwnUsage, settings: AutotaskSettings, *,
                 clock: Callable[[], float] = time.time) -> None:
        self._usage = usage
        self._share = settings.max_database_share
        self._budget = settings.hourly_budget
        self._clock = clock
        self._lock = threading.Lock()
        self._granted = 0
        self._next_block = FIRST_BLOCK  # a quiet run reserves little; a busy one doubles up to block_size
        self.reads = 0
        self.last: Room | None = None
        self.peak_share = 0.0  # the highest database share a ThresholdInformation read showed

    def take(self, read_threshold: Callable[[], ThresholdInformation]) -> None:
        """Allow one request, reading the threshold first when the current block is used up."""
        with self._lock:
            if self._granted <= 0:
                self._refill(read_threshold)
            self._granted -= 1

    def _refill(self, read_threshold: Callable[[], ThresholdInformation]) -> None:
        now = self._clock()
        paused = self._usage.paused_until()
        if now < paused:
            raise AutotaskShareUsed(
                "autoxero paused its Autotask work to leave the MSP's other integrations their share of the "
                f"hourly request threshold; it resumes in {math.ceil((paused - now) / 60)} min, where it stopped.")
        info = read_threshold()
        self.reads += 1
        own = self._usage.by_minute(now)
        current = room(info, sum(n for _, n in own) + 1, self._share, self._budget)  # +1: the read itself
        self.last = current
        self._usage.note_reading(info.externalRequestThreshold, info.currentTimeframeRequestCount, current.own_count,
                                 now)
        if info.externalRequestThreshold:
            self.peak_share = max(self.peak_share, info.currentTimeframeRequestCount / info.externalRequestThreshold)
        block = block_size(info.externalRequestThreshold)
        if current.requests < 1:
            self._usage.reserve(1, now)
            self._usage.pause(resume_at(own, block + 1 - current.requests, now))
            raise AutotaskShareUsed(
                f"autoxero paused its Autotask work to leave the MSP's other integrations their share: the "
                f"database has used {info.currentTimeframeRequestCount:,} of its {info.externalRequestThreshold:,} "
                f"requests this hour and autoxero {current.own_count:,} of its budget of {self._budget:,} "
                f"({current.binding} reached). The next run continues where this one stopped.")
        grant = min(current.requests, block, self._next_block)
        self._next_block *= 2
        self._usage.reserve(grant + 1, now)
        self._granted = grant
