"""The needs-attention list: records a person must look at, each with a plain message and the fix.

One item per (flow, record); raising it again updates the message and counts the occurrence; it is
cleared when the record syncs or a person resolves it.

A person may also mark a record as never to sync (`skip`): e.g. an invoice already entered in Xero by
hand. A skipped record is left alone by every run until `unskip`, and status and reconciliation list it.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from autoxero.redaction import redact, redact_value
from autoxero.state.ledger import Ledger
from autoxero.state.table import (
    ATTENTION_INDEX_PK,
    SKIP_INDEX_PK,
    StateTable,
    attention_key,
    skip_key,
    unless_condition_fails,
)


def without_label(message: str, label: str) -> str:
    """A problem's message names its record first ("Invoice INV-1 (Acme): the company ..."): the rest of it, as a
    sentence of its own ("The company ...")."""
    prefix = f"{label}: "
    if not label or not message.startswith(prefix):
        return message
    rest = message[len(prefix):]
    return rest[:1].upper() + rest[1:]


@dataclass(frozen=True, slots=True)
class AttentionItem:
    flow: str
    record_id: str
    code: str
    message: str
    fix: str
    label: str
    first_seen: str
    last_seen: str
    occurrences: int
    context: dict[str, Any]

    @property
    def detail(self) -> str:
        """The message without the record's name it starts with: for a place that names the record already
        (a row, a link)."""
        return without_label(self.message, self.label)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> AttentionItem:
        return cls(flow=str(item["flow"]), record_id=str(item["record_id"]), code=str(item["code"]),
                   message=str(item["message"]), fix=str(item.get("fix", "")), label=str(item.get("label", "")),
                   first_seen=str(item["first_seen"]), last_seen=str(item["last_seen"]),
                   occurrences=int(item.get("occurrences", 1)), context=dict(item.get("context") or {}))


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    flow: str
    record_id: str
    reason: str
    by: str
    at: str
    label: str

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> SkippedRecord:
        return cls(flow=str(item["flow"]), record_id=str(item["record_id"]), reason=str(item.get("reason", "")),
                   by=str(item.get("by", "")), at=str(item.get("at", "")), label=str(item.get("label", "")))


class Attention:
    def __init__(self, table: StateTable) -> None:
        self._t = table
        self._ledger = Ledger(table)

    def raise_(self, flow: str, record_id: str | int, *, code: str, message: str, fix: str,
               label: str = "", context: dict[str, Any] | None = None) -> None:
        at = datetime.fromtimestamp(self._t.now(), UTC).isoformat(timespec="seconds")
        self._t.table.update_item(
            Key=attention_key(flow, record_id),
            UpdateExpression=(
                "SET flow = :f, record_id = :r, code = :c, message = :m, fix = :x, label = :l, "
                "context = :ctx, last_seen = :at, first_seen = if_not_exists(first_seen, :at), "
                "gsi1pk = :g, gsi1sk = :gs ADD occurrences :one"
            ),
            ExpressionAttributeValues={
                ":f": flow, ":r": str(record_id), ":c": code, ":m": redact(message), ":x": fix, ":l": label,
                ":ctx": redact_value(context or {}), ":at": at, ":g": ATTENTION_INDEX_PK,
                ":gs": f"{flow}#{record_id}", ":one": 1,
            },
        )

    def clear(self, flow: str, record_id: str | int) -> bool:
        return unless_condition_fails(lambda: self._t.table.delete_item(
            Key=attention_key(flow, record_id), ConditionExpression="attribute_exists(pk)")) is not None

    def get(self, flow: str, record_id: str | int) -> AttentionItem | None:
        item = self._t.get(attention_key(flow, record_id))
        return AttentionItem.from_item(item) if item else None

    def list(self, flow: str | None = None) -> list[AttentionItem]:
        return [AttentionItem.from_item(i) for i in _index(self._t, ATTENTION_INDEX_PK, flow)]

    # ------------------------------------------------------------------ records a person chose never to sync

    def skip(self, flow: str, record_id: str | int, reason: str, by: str, label: str = "") -> None:
        """Never sync this record (its open attention item, if any, is closed: a person has decided)."""
        if not reason.strip() or not by.strip():
            raise ValueError("a skip needs a reason and who decided it")
        at = datetime.fromtimestamp(self._t.now(), UTC).isoformat(timespec="seconds")
        self._t.table.put_item(Item={**skip_key(flow, record_id), "flow": flow, "record_id": str(record_id),
                                     "reason": redact(reason), "by": by, "at": at, "label": label,
                                     "gsi1pk": SKIP_INDEX_PK, "gsi1sk": f"{flow}#{record_id}"})
        self.clear(flow, record_id)
        self._ledger.append(flow, record_id, "skipped", "never to sync", {"by": by, "reason": reason})

    def unskip(self, flow: str, record_id: str | int, by: str) -> bool:
        """Let the record sync again; False when it was not skipped."""
        if unless_condition_fails(lambda: self._t.table.delete_item(
                Key=skip_key(flow, record_id), ConditionExpression="attribute_exists(pk)")) is None:
            return False
        self._ledger.append(flow, record_id, "unskipped", "syncs again", {"by": by})
        return True

    def is_skipped(self, flow: str, record_id: str | int) -> bool:
        return self._t.get(skip_key(flow, record_id)) is not None

    def skipped(self, flow: str | None = None) -> builtins.list[SkippedRecord]:
        return [SkippedRecord.from_item(i) for i in _index(self._t, SKIP_INDEX_PK, flow)]

    def skipped_count(self) -> int:
        """How many records are skipped (the index answers the count, not the records)."""
        total = 0
        kwargs: dict[str, Any] = {"IndexName": "gsi1", "KeyConditionExpression": Key("gsi1pk").eq(SKIP_INDEX_PK),
                                  "Select": "COUNT"}
        while True:
            answer = self._t.table.query(**kwargs)
            total += int(answer.get("Count", 0))
            if "LastEvaluatedKey" not in answer:
                return total
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def skipped_ids(self, flow: str) -> set[str]:
        """One query for a whole run's worth of records."""
        return {str(i["record_id"]) for i in _index(self._t, SKIP_INDEX_PK, flow)}



def _index(table: StateTable, kind: str, flow: str | None) -> list[dict[str, Any]]:
    condition: Any = Key("gsi1pk").eq(kind)
    if flow:
        condition = condition & Key("gsi1sk").begins_with(f"{flow}#")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"IndexName": "gsi1", "KeyConditionExpression": condition}
    while True:
        answer = table.table.query(**kwargs)
        items.extend(dict(i) for i in answer["Items"])
        if "LastEvaluatedKey" not in answer:
            return items
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
