"""Xero's per-organisation limits on the sandbox clock: calls per fixed minute window, per fixed day window,
and calls in flight; plus the app-wide minute limit that feeds `X-AppMinLimit-Remaining`.

Windows are fixed and start with the first call after the previous window ended ("a fixed window which
will reset at different times for each tenant"). A refused call does not count against the windows.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from sandbox.core import SandboxClock

MINUTE = 60.0
DAY = 86400.0
APP_MINUTE_LIMIT = 10_000


@dataclass
class _Window:
    start: float | None = None
    count: int = 0

    def roll(self, now: float, length: float) -> None:
        if self.start is None or now >= self.start + length:
            self.start, self.count = now, 0

    def retry_after(self, now: float, length: float) -> int:
        assert self.start is not None
        return max(1, math.ceil(self.start + length - now))


@dataclass
class _Tenant:
    minute: _Window
    day: _Window
    in_flight: int = 0


@dataclass
class Decision:
    allowed: bool
    headers: dict[str, str]
    problem: str | None = None


class RateLimiter:
    def __init__(self, clock: SandboxClock, minute_limit: int, concurrent_limit: int, day_limit: int) -> None:
        self.clock = clock
        self.minute_limit = minute_limit
        self.concurrent_limit = concurrent_limit
        self.day_limit = day_limit
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self._tenants: dict[str, _Tenant] = {}
            self._app = _Window()

    def configure(self, *, minute: int | None = None, concurrent: int | None = None, day: int | None = None) -> None:
        with self.lock:
            if minute is not None:
                self.minute_limit = minute
            if concurrent is not None:
                self.concurrent_limit = concurrent
            if day is not None:
                self.day_limit = day

    def _tenant(self, tenant: str) -> _Tenant:
        state = self._tenants.get(tenant)
        if state is None:
            state = self._tenants[tenant] = _Tenant(_Window(), _Window())
        return state

    def _headers(self, state: _Tenant) -> dict[str, str]:
        return {
            "X-DayLimit-Remaining": str(max(0, self.day_limit - state.day.count)),
            "X-MinLimit-Remaining": str(max(0, self.minute_limit - state.minute.count)),
            "X-AppMinLimit-Remaining": str(max(0, APP_MINUTE_LIMIT - self._app.count)),
        }

    def acquire(self, tenant: str) -> Decision:
        now = self.clock.time()
        with self.lock:
            state = self._tenant(tenant)
            state.minute.roll(now, MINUTE)
            state.day.roll(now, DAY)
            self._app.roll(now, MINUTE)
            if state.in_flight >= self.concurrent_limit:
                return Decision(False, self._headers(state) | {"X-Rate-Limit-Problem": "concurrent"}, "concurrent")
            if state.day.count >= self.day_limit:
                return Decision(False, self._headers(state) | {
                    "X-Rate-Limit-Problem": "day", "Retry-After": str(state.day.retry_after(now, DAY))}, "day")
            if state.minute.count >= self.minute_limit:
                return Decision(False, self._headers(state) | {
                    "X-Rate-Limit-Problem": "minute", "Retry-After": str(state.minute.retry_after(now, MINUTE))},
                    "minute")
            state.minute.count += 1
            state.day.count += 1
            self._app.count += 1
            state.in_flight += 1
            return Decision(True, self._headers(state))

    def release(self, tenant: str) -> None:
        with self.lock:
            state = self._tenant(tenant)
            state.in_flight = max(0, state.in_flight - 1)

    def in_flight(self, tenant: str) -> int:
        with self.lock:
            return self._tenant(tenant).in_flight

    def snapshot(self) -> dict[str, object]:
        with self.lock:
            return {
                "limits": {"minute": self.minute_limit, "concurrent": self.concurrent_limit, "day": self.day_limit},
                "tenants": {t: {"minute": s.minute.count, "day": s.day.count, "in_flight": s.in_flight}
                            for t, s in self._tenants.items()},
            }
