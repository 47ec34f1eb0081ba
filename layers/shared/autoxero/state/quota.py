"""autoxero's own Autotask requests over the rolling hour, shared by every invocation of the stack.

Autotask counts requests per database over a rolling 60 minutes; autoxero keeps its own count too, so that
several flows running at once stay under one hourly budget together. Requests are counted by the minute
(`QUOTA#autotask`, sort key = the minute), reserved in blocks before they are made: an atomic ADD per block,
not per request. Items expire a day after their minute.
"""

from __future__ import annotations

import math
from typing import Any

from boto3.dynamodb.conditions import Key

from autoxero.state.table import StateTable, quota_pk

WINDOW_SECONDS = 3600
_KEEP_SECONDS = 86_400
_PAUSE, _READING = "PAUSE", "READING"  # sort after every minute key, so minute queries never see them


def _minute(now: float) -> int:
    return int(now // 60)


def _sort_key(minute: int) -> str:
    return f"{minute:012d}"


class RequestQuota:
    def __init__(self, table: StateTable, api: str = "autotask") -> None:
        self._t = table
        self._pk = quota_pk(api)

    def reserve(self, requests: int, now: float) -> None:
        """Count `requests` (about to be made) against the minute of `now`."""
        if requests <= 0:
            return
        minute = _minute(now)
        self._t.table.update_item(
            Key={"pk": self._pk, "sk": _sort_key(minute)},
            UpdateExpression="ADD requests :n SET #ttl = if_not_exists(#ttl, :ttl)",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":n": requests, ":ttl": minute * 60 + _KEEP_SECONDS})

    def by_minute(self, now: float, window: float = WINDOW_SECONDS) -> list[tuple[float, int]]:
        """(end of the minute, requests reserved in it) for each minute of the rolling window ending at `now`."""
        first = _minute(now - window) + 1
        found: list[tuple[float, int]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(self._pk)
                                  & Key("sk").between(_sort_key(first), _sort_key(_minute(now))),
                                  "ConsistentRead": True}
        while True:
            answer = self._t.table.query(**kwargs)
            found += [((int(str(item["sk"])) + 1) * 60.0, int(str(item.get("requests", 0))))
                      for item in answer["Items"]]
            if "LastEvaluatedKey" not in answer:
                return found
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def used(self, now: float, window: float = WINDOW_SECONDS) -> int:
        """Requests reserved in the rolling window that ends at `now` (minute granularity, rounded up)."""
        return sum(n for _, n in self.by_minute(now, window))

    def pause(self, until: float) -> None:
        """Nobody reads the threshold again before `until` (it would only add to a database at its share)."""
        self._t.table.put_item(Item={"pk": self._pk, "sk": _PAUSE, "until": math.ceil(until),
                                     "ttl": int(until) + _KEEP_SECONDS})

    def note_reading(self, threshold: int, count: int, own: int, now: float) -> None:
        """The last ThresholdInformation reading and autoxero's own count then (for `autoxero status`)."""
        self._t.table.put_item(Item={"pk": self._pk, "sk": _READING, "threshold": threshold, "count": count,
                                     "own": own, "at": int(now), "ttl": int(now) + _KEEP_SECONDS})

    @property
    def reading_key(self) -> dict[str, str]:
        return {"pk": self._pk, "sk": _READING}

    def last_reading(self) -> dict[str, int] | None:
        return self.parse_reading(self._t.get(self.reading_key))

    @staticmethod
    def parse_reading(item: dict[str, Any] | None) -> dict[str, int] | None:
        """The last ThresholdInformation reading from its item (`reading_key`), read alone or in a batch."""
        return {k: int(str(item[k])) for k in ("threshold", "count", "own", "at")} if item else None

    def paused_until(self) -> float:
        item = self._t.get({"pk": self._pk, "sk": _PAUSE})
        return float(str(item["until"])) if item else 0.0

    def per_hour(self, now: float, hours: int) -> list[int]:
        """Requests reserved in each of the last `hours` whole hours before `now` (oldest first)."""
        return [self.used(now - h * WINDOW_SECONDS) for h in range(hours - 1, -1, -1)]
