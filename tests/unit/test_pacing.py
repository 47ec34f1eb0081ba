"""The pacer's rule (autotask/pacing.py), without I/O: how much room autoxero has, and when it resumes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autoxero.autotask.models import ThresholdInformation
from autoxero.autotask.pacing import block_size, resume_at, room


def info(count: int, threshold: int = 10_000) -> ThresholdInformation:
    return ThresholdInformation(externalRequestThreshold=threshold, requestThresholdTimeframe=60,
                                currentTimeframeRequestCount=count)


@pytest.mark.parametrize(("database", "own", "share", "budget", "expected"), [
    (3_000, 0, "0.5", 1_500, (1_499, "hourly budget")),      # others at 30 %: autoxero's own budget binds
    (3_000, 0, "0.5", 5_000, (1_999, "database share")),     # 5,000 - 3,000 - the next read
    (4_800, 1_500, "0.5", 2_000, (199, "database share")),
    (5_000, 0, "0.5", 2_000, (0, "database share")),         # at the share: nothing, whatever autoxero's budget
    (9_000, 0, "0.5", 2_000, (0, "database share")),         # others alone are over the share
    (1_000, 2_000, "0.5", 2_000, (0, "hourly budget")),
    (0, 0, "0.95", 20_000, (9_499, "database share")),
])
def test_room_is_the_smaller_of_the_database_share_and_the_own_budget(database, own, share, budget, expected):
    found = room(info(database), own, Decimal(share), budget)
    assert (found.requests, found.binding) == expected


def test_blocks_are_about_one_percent_of_the_threshold():
    assert [block_size(t) for t in (10_000, 400, 100, 1_000_000)] == [100, 5, 5, 100]


def test_resume_when_enough_of_our_own_requests_leave_the_hour():
    own = [(1_060.0, 30), (1_000.0, 50), (1_120.0, 40)]  # (end of minute, requests), any order
    assert resume_at(own, 40, now=2_000.0) == 1_000.0 + 3600   # the oldest minute frees 50
    assert resume_at(own, 80, now=2_000.0) == 1_060.0 + 3600
    assert resume_at(own, 500, now=2_000.0) == 2_000.0 + 900   # others took the room: try a tick later
