"""Leases by conditional writes: one token refresh at a time, one run per flow at a time.

A lease has a holder and an expiry on the table's clock. Acquire succeeds when there is no lease, it has
expired, or the caller already holds it; renew and release only work for the holder.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

from autoxero.state.table import StateError, StateTable, lease_key, unless_condition_fails


class LeaseLost(StateError):
    pass


class LeaseBusy(StateError):
    pass


class Leases:
    def __init__(self, table: StateTable) -> None:
        self._t = table

    @staticmethod
    def new_holder() -> str:
        return uuid.uuid4().hex

    def acquire(self, name: str, holder: str, seconds: float) -> bool:
        now = self._t.now()
        return unless_condition_fails(lambda: self._t.table.put_item(
            Item={**lease_key(name), "holder": holder, "expires_at": _decimal(now + seconds),
                  "ttl": int(now + seconds + 86400)},
            ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR holder = :me",
            ExpressionAttributeValues={":now": _decimal(now), ":me": holder},
        )) is not None

    def renew(self, name: str, holder: str, seconds: float) -> None:
        now = self._t.now()
        renewed = unless_condition_fails(lambda: self._t.table.update_item(
            Key=lease_key(name),
            UpdateExpression="SET expires_at = :e, #ttl = :ttl",
            ConditionExpression="holder = :me AND expires_at >= :now",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":e": _decimal(now + seconds), ":me": holder, ":now": _decimal(now),
                                       ":ttl": int(now + seconds + 86400)},
        ))
        if renewed is None:
            raise LeaseLost(f"lease {name!r} is no longer held by this invocation")

    def release(self, name: str, holder: str) -> bool:
        return unless_condition_fails(lambda: self._t.table.delete_item(
            Key=lease_key(name), ConditionExpression="holder = :me", ExpressionAttributeValues={":me": holder},
        )) is not None

    @contextmanager
    def held(self, name: str, seconds: float, *, wait: float = 0.0,
             sleep: Callable[[float], None] = time.sleep, poll: float = 0.2) -> Iterator[str]:
        """Hold the lease for the block; wait up to `wait` seconds for it, else raise LeaseBusy."""
        holder = self.new_holder()
        deadline = time.monotonic() + wait
        while not self.acquire(name, holder, seconds):
            if time.monotonic() >= deadline:
                raise LeaseBusy(f"lease {name!r} is held by another invocation")
            sleep(poll)
        try:
            yield holder
        finally:
            self.release(name, holder)


def _decimal(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))
