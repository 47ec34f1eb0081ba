"""Reference data aging on the sandbox clock (a light module: the backfill's measured process imports it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def reference_cache_on(clock: Callable[[], float]) -> Iterator[None]:
    """The Autotask reference data is cached in the table for an hour of `time.time()`. Benchmark rounds are
    minutes or hours of sandbox time apart but seconds of wall time: let that cache age on the sandbox clock,
    as it would between real scheduled runs."""
    from autoxero.sync import reference

    class SandboxTime:
        time = staticmethod(clock)

    original = reference.time
    reference.time = SandboxTime  # type: ignore[assignment]
    try:
        yield
    finally:
        reference.time = original
