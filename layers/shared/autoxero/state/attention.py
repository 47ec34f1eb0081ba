"""The needs-attention list: records a person must look at, each with a plain message and the fix.

One item per (flow, record); raising it again updates the message and counts the occurrence; it is
cleared when the record syncs or a person resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from autoxero.redaction import redact, redact_value
from autoxero.state.table import ATTENTION_INDEX_PK, StateTable, attention_key


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

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> AttentionItem:
        return cls(flow=str(item["flow"]), record_id=str(item["record_id"]), code=str(item["code"]),
                   message=str(item["message"]), fix=str(item.get("fix", "")), label=str(item.get("label", "")),
                   first_seen=str(item["first_seen"]), last_seen=str(item["last_seen"]),
                   occurrences=int(item.get("occurrences", 1)), context=dict(item.get("context") or {}))


class Attention:
    def __init__(self, table: StateTable) -> None:
        self._t = table

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
        try:
            self._t.table.delete_item(Key=attention_key(flow, record_id),
                                      ConditionExpression="attribute_exists(pk)")
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, flow: str, record_id: str | int) -> AttentionItem | None:
        item = self._t.get(attention_key(flow, record_id))
        return AttentionItem.from_item(item) if item else None

    def list(self, flow: str | None = None) -> list[AttentionItem]:
        condition: Any = Key("gsi1pk").eq(ATTENTION_INDEX_PK)
        if flow:
            condition = condition & Key("gsi1sk").begins_with(f"{flow}#")
        items: list[AttentionItem] = []
        kwargs: dict[str, Any] = {"IndexName": "gsi1", "KeyConditionExpression": condition}
        while True:
            answer = self._t.table.query(**kwargs)
            items.extend(AttentionItem.from_item(i) for i in answer["Items"])
            if "LastEvaluatedKey" not in answer:
                return items
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
