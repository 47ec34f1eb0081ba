"""The chaos scenario (bench/chaos.py) on a small tenant: faults on both APIs, crashes at the state writes,
reruns until the system settles, then the five checks. `make chaos` runs it on 20 seeds x 1,000 invoices."""

from __future__ import annotations

import pytest

from bench import chaos


@pytest.fixture(autouse=True)
def quiet_logs():
    from autoxero.observability import logger

    level = logger.log_level
    logger.setLevel("CRITICAL")  # hundreds of expected retries
    yield
    logger.setLevel(level)


@pytest.mark.parametrize("seed", [1, 2])
def test_settles_with_no_duplicate_nothing_missing_and_right_totals_and_paid_dates(seed):
    # A small tenant makes few state writes, so each crash point fires three times as often as in `make chaos`.
    result = chaos.scenario(seed, 60, crash_scale=3.0)
    assert result.crashes.total() > 0 and result.faults.total() > 0
    assert result.settled, f"not settled in {result.rounds} rounds"
    assert {name: found for name, found in result.failures.items() if found} == {}


def test_token_race_refreshes_once_per_expiry_and_never_invalid_grant():
    race = chaos.token_race(concurrency=10, rounds=5)
    assert race.errors == []
    assert race.refreshes == [1] * 5
    assert race.invalid_grants == 0
