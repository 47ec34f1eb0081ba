"""The id map: Autotask record <-> Xero record, both directions, with a content hash.

An entry is written `pending` before the Xero call (write-ahead) and `synced` after it, so a crash between
Xero's answer and our write leaves a pending entry the next run resolves by looking Xero up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from autoxero.state.table import StateTable, map_key, reverse_map_key

Status = Literal["pending", "synced", "failed", "voided", "deleted"]
_BATCH_GET_LIMIT = 100


@dataclass(frozen=True, slots=True)
class MapEntry:
    kind: str
    autotask_id: str
    status: Status
    identity: str
    content_hash: str
    xero_id: str | None = None
    xero_number: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> MapEntry:
        return cls(
            kind=str(item["kind"]), autotask_id=str(item["autotask_id"]), status=item["status"],
            identity=str(item.get("identity", "")), content_hash=str(item.get("content_hash", "")),
            xero_id=item.get("xero_id"), xero_number=item.get("xero_number"),
            extra=dict(item.get("extra") or {}),
        )


class IdMap:
    def __init__(self, table: StateTable) -> None:
        self._t = table

    def get(self, kind: str, autotask_id: str | int) -> MapEntry | None:
        item = self._t.get(map_key(kind, autotask_id))
        return MapEntry.from_item(item) if item else None

    def _batch_get(self, keys: list[dict[str, str]]) -> list[dict[str, Any]]:
        """BatchGetItem, 100 keys a call, retrying whatever DynamoDB leaves unprocessed."""
        items: list[dict[str, Any]] = []
        client = self._t.table.meta.client
        for start in range(0, len(keys), _BATCH_GET_LIMIT):
            request: dict[str, Any] = {self._t.name: {"Keys": keys[start:start + _BATCH_GET_LIMIT],
                                                      "ConsistentRead": True}}
            while request:
                answer = client.batch_get_item(RequestItems=request)
                items.extend(answer["Responses"].get(self._t.name, []))
                request = dict(answer.get("UnprocessedKeys") or {})
        return items

    def get_many(self, kind: str, autotask_ids: Iterable[str | int]) -> dict[str, MapEntry]:
        """One BatchGetItem per 100 ids: the way a run reads the map for a whole page of records."""
        ids = list(dict.fromkeys(str(i) for i in autotask_ids))
        entries = (MapEntry.from_item(item) for item in self._batch_get([map_key(kind, i) for i in ids]))
        return {entry.autotask_id: entry for entry in entries}

    def by_xero_ids(self, kind: str, xero_ids: Iterable[str]) -> dict[str, MapEntry]:
        """Xero id -> entry, for the ids the map knows (two batched reads, whatever the count)."""
        keys = [reverse_map_key(kind, x) for x in dict.fromkeys(xero_ids)]
        autotask_ids = [str(item["autotask_id"]) for item in self._batch_get(keys)]
        return {e.xero_id: e for e in self.get_many(kind, autotask_ids).values() if e.xero_id}

    def by_xero_id(self, kind: str, xero_id: str) -> MapEntry | None:
        reverse = self._t.get(reverse_map_key(kind, xero_id))
        return self.get(kind, reverse["autotask_id"]) if reverse else None

    def mark_pending(self, kind: str, autotask_id: str | int, identity: str, content_hash: str,
                     xero_id: str | None = None) -> MapEntry:
        """Write-ahead before a Xero create or update. Keeps a known xero_id (an update is pending too)."""
        item: dict[str, Any] = {
            **map_key(kind, autotask_id), "kind": kind, "autotask_id": str(autotask_id),
            "status": "pending", "identity": identity, "content_hash": content_hash,
            "updated_at": int(self._t.now()),
        }
        if xero_id:
            item["xero_id"] = xero_id
        self._t.table.put_item(Item=item)
        return MapEntry.from_item(item)

    def record(self, kind: str, autotask_id: str | int, *, xero_id: str, identity: str, content_hash: str,
               status: Status = "synced", xero_number: str | None = None,
               extra: dict[str, Any] | None = None) -> MapEntry:
        """Store the outcome in both directions: the reverse entry first, then the forward one.

        Two writes, not a transaction: the forward entry is the truth and is written last, so a crash in
        between leaves it pending and the next run looks Xero up and records again (the reverse entry is
        derived and rewriting it is harmless). Transactions would cost twice the capacity for no gain.
        """
        item: dict[str, Any] = {
            **map_key(kind, autotask_id), "kind": kind, "autotask_id": str(autotask_id), "status": status,
            "identity": identity, "content_hash": content_hash, "xero_id": xero_id,
            "updated_at": int(self._t.now()),
        }
        if xero_number:
            item["xero_number"] = xero_number
        if extra:
            item["extra"] = extra
        self._t.table.put_item(Item={**reverse_map_key(kind, xero_id), "kind": kind,
                                     "autotask_id": str(autotask_id)})
        self._t.table.put_item(Item=item)
        return MapEntry.from_item(item)

    def mark_pending_many(self, kind: str, entries: list[tuple[str | int, str, str]]) -> None:
        """Write-ahead for a whole batch: (autotask id, identity, content hash), 25 per BatchWriteItem."""
        now = int(self._t.now())
        with self._t.table.batch_writer() as batch:
            for autotask_id, identity, content_hash in entries:
                batch.put_item(Item={**map_key(kind, autotask_id), "kind": kind, "autotask_id": str(autotask_id),
                                     "status": "pending", "identity": identity, "content_hash": content_hash,
                                     "updated_at": now})

    def record_many(self, kind: str, outcomes: list[dict[str, Any]]) -> None:
        """`record` for a batch: every reverse entry first, then every forward entry (the truth) last.

        Each outcome has autotask_id, xero_id, identity, content_hash and optionally xero_number, extra.
        """
        now = int(self._t.now())
        with self._t.table.batch_writer() as batch:
            for o in outcomes:
                batch.put_item(Item={**reverse_map_key(kind, o["xero_id"]), "kind": kind,
                                     "autotask_id": str(o["autotask_id"])})
        with self._t.table.batch_writer() as batch:
            for o in outcomes:
                item = {**map_key(kind, o["autotask_id"]), "kind": kind, "autotask_id": str(o["autotask_id"]),
                        "status": "synced", "identity": o["identity"], "content_hash": o["content_hash"],
                        "xero_id": o["xero_id"], "updated_at": now}
                item.update({k: o[k] for k in ("xero_number", "extra") if o.get(k)})
                batch.put_item(Item=item)

    def set_status(self, kind: str, autotask_id: str | int, status: Status) -> None:
        self._t.table.update_item(
            Key=map_key(kind, autotask_id), UpdateExpression="SET #s = :s, updated_at = :u",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": status, ":u": int(self._t.now())},
        )

