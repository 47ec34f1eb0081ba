"""The ledger: what was sent, what came back, when and why — the audit trail, bounded by a TTL.

Entries are redacted before they are written: the ledger must never hold a secret value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from autoxero.redaction import redact_value
from autoxero.state.table import StateTable, ledger_pk

_MAX_DETAIL_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    flow: str
    record_id: str
    at: str
    action: str
    outcome: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One entry to append: what happened to a record, and the detail worth keeping."""

    flow: str
    record_id: str | int
    action: str
    outcome: str
    detail: dict[str, Any] | None = None


class Ledger:
    def __init__(self, table: StateTable, retention_days: int = 400) -> None:
        self._t = table
        self._retention_seconds = retention_days * 86400
        self._seq = 0

    def _item(self, flow: str, record_id: str | int, action: str, outcome: str,
              detail: dict[str, Any] | None) -> dict[str, Any]:
        now = self._t.now()
        self._seq += 1
        at = datetime.fromtimestamp(now, UTC).isoformat(timespec="microseconds")
        text = json.dumps(redact_value(detail or {}), default=str, sort_keys=True)
        if len(text) > _MAX_DETAIL_CHARS:
            text = text[:_MAX_DETAIL_CHARS] + '..."}'
        return {"pk": ledger_pk(flow, record_id), "sk": f"{at}#{self._seq:06d}", "flow": flow,
                "record_id": str(record_id), "at": at, "action": action, "outcome": outcome,
                "detail": text, "ttl": int(now + self._retention_seconds)}

    def append(self, flow: str, record_id: str | int, action: str, outcome: str,
               detail: dict[str, Any] | None = None) -> None:
        self._t.table.put_item(Item=self._item(flow, record_id, action, outcome, detail))

    def append_many(self, lines: list[LedgerLine]) -> None:
        """25 per BatchWriteItem."""
        with self._t.table.batch_writer() as batch:
            for line in lines:
                batch.put_item(Item=self._item(line.flow, line.record_id, line.action, line.outcome, line.detail))

    def history(self, flow: str, record_id: str | int) -> list[LedgerEntry]:
        answer = self._t.table.query(KeyConditionExpression=Key("pk").eq(ledger_pk(flow, record_id)))
        entries = []
        for item in answer["Items"]:
            try:
                detail = json.loads(str(item.get("detail", "{}")))
            except json.JSONDecodeError:
                detail = {"raw": item.get("detail")}
            entries.append(LedgerEntry(flow=str(item["flow"]), record_id=str(item["record_id"]),
                                       at=str(item["at"]), action=str(item["action"]),
                                       outcome=str(item["outcome"]), detail=detail))
        return entries
