"""The id map: Autotask record <-> Xero record, both directions, with a content hash.

An entry is written `pending` before the Xero call (write-ahead), together with the document's identity —
how Xero can find it again (its number or Reference, its type, its contact) — and `synced` after it. A crash
between Xero's answer and our write leaves a pending entry the next run resolves by looking Xero up by that
stored identity: not by the record's current number, which may have changed since.

A synced entry is the truth about a document that exists: neither a write-ahead nor a refusal overwrites it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict, cast

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from autoxero.state.table import StateTable, map_key, reverse_map_key, unless_condition_fails

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

TRANSACT_LIMIT = 100  # actions in one TransactWriteItems (DynamoDB's limit)
_SERIALIZER = TypeSerializer()

Status = Literal["pending", "synced", "failed", "voided", "deleted"]


class MapExtra(TypedDict, total=False):
    """What an entry keeps beside the ids: which document an invoice became, and the paidDate autoxero last
    wrote to Autotask (so a date a person set by hand is told apart from autoxero's own)."""

    document: str  # "invoice" or "credit_note" (entries older than this field: "invoice")
    paid_date_written: str | None  # ISO date, or None after autoxero cleared it


@dataclass(frozen=True, slots=True)
class Identity:
    """How a document autoxero creates is found in Xero: `field` == `value` on a `document` for `contact_id`.
    Entries written before identities were stored carry only the value."""

    value: str
    field: str = ""
    document: str = ""
    contact_id: str = ""


@dataclass(frozen=True, slots=True)
class MapEntry:
    kind: str
    autotask_id: str
    status: Status
    identity: Identity
    content_hash: str
    xero_id: str | None = None
    xero_number: str | None = None
    extra: MapExtra = field(default_factory=MapExtra)
    updated_at: int = 0

    @property
    def document(self) -> str:
        return self.extra.get("document") or "invoice"

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> MapEntry:
        return cls(
            kind=str(item["kind"]), autotask_id=str(item["autotask_id"]), status=item["status"],
            identity=Identity(str(item.get("identity", "")), str(item.get("identity_field", "")),
                              str(item.get("document", "")), str(item.get("contact_id", ""))),
            content_hash=str(item.get("content_hash", "")), xero_id=item.get("xero_id"),
            xero_number=item.get("xero_number"), extra=cast(MapExtra, dict(item.get("extra") or {})),
            updated_at=int(item.get("updated_at", 0)),
        )


@dataclass(frozen=True, slots=True)
class MapStatus:
    """Where a record stands in the id map, read without the rest of its entry (a projection): what a
    reconciliation or a search needs of each of many records."""

    autotask_id: str
    status: Status
    xero_id: str | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    """What Xero answered for one record: the outcome `record_many` stores."""

    autotask_id: str | int
    xero_id: str
    identity: Identity
    content_hash: str
    xero_number: str | None = None
    extra: MapExtra = field(default_factory=MapExtra)


class IdMap:
    def __init__(self, table: StateTable) -> None:
        self._t = table

    def _item(self, kind: str, autotask_id: str | int, status: Status, identity: Identity,
              content_hash: str) -> dict[str, Any]:
        item: dict[str, Any] = {**map_key(kind, autotask_id), "kind": kind, "autotask_id": str(autotask_id),
                                "status": status, "identity": identity.value, "content_hash": content_hash,
                                "updated_at": int(self._t.now())}
        item.update({name: value for name, value in (("identity_field", identity.field),
                                                     ("document", identity.document),
                                                     ("contact_id", identity.contact_id)) if value})
        return item

    def get(self, kind: str, autotask_id: str | int) -> MapEntry | None:
        item = self._t.get(map_key(kind, autotask_id))
        return MapEntry.from_item(item) if item else None

    def get_many(self, kind: str, autotask_ids: Iterable[str | int]) -> dict[str, MapEntry]:
        """One BatchGetItem per 100 ids: the way a run reads the map for a whole page of records."""
        ids = list(dict.fromkeys(str(i) for i in autotask_ids))
        entries = (MapEntry.from_item(item) for item in self._t.get_many([map_key(kind, i) for i in ids]).values())
        return {entry.autotask_id: entry for entry in entries}

    def statuses(self, kind: str, autotask_ids: Iterable[str | int]) -> dict[str, MapStatus]:
        """`get_many`'s status and Xero id alone, for many records (DynamoDB sends only those attributes)."""
        ids = list(dict.fromkeys(str(i) for i in autotask_ids))
        items = self._t.get_many([map_key(kind, i) for i in ids], projection=("autotask_id", "status", "xero_id"))
        return {str(i["autotask_id"]): MapStatus(str(i["autotask_id"]), i["status"], i.get("xero_id"))
                for i in items.values()}

    def by_xero_ids(self, kind: str, xero_ids: Iterable[str]) -> dict[str, MapEntry]:
        """Xero id -> entry, for the ids the map knows (two batched reads, whatever the count)."""
        keys = [reverse_map_key(kind, x) for x in dict.fromkeys(xero_ids)]
        autotask_ids = [str(item["autotask_id"]) for item in self._t.get_many(keys).values()]
        return {e.xero_id: e for e in self.get_many(kind, autotask_ids).values() if e.xero_id}

    _UNLESS_SYNCED: Any = {"ConditionExpression": "attribute_not_exists(pk) OR #s <> :synced",
                           "ExpressionAttributeNames": {"#s": "status"}}

    def mark_pending(self, kind: str, autotask_id: str | int, identity: Identity, content_hash: str) -> bool:
        """Write-ahead before a Xero create, with the identity the document will carry. False (nothing written)
        when the entry is synced: the document exists, and whoever recorded it is right."""
        return unless_condition_fails(lambda: self._t.table.put_item(
            Item=self._item(kind, autotask_id, "pending", identity, content_hash), **self._UNLESS_SYNCED,
            ExpressionAttributeValues={":synced": "synced"})) is not None

    def mark_pending_many(self, kind: str, records: Sequence[tuple[str | int, Identity, str]]) -> set[str]:
        """`mark_pending` for a batch of (autotask id, identity, content hash): the ids written. One
        TransactWriteItems per 100, each Put under `mark_pending`'s condition; a transaction DynamoDB cancels
        (an entry synced meanwhile, another writer on one of them) writes nothing ("TransactionCanceledException
        ... a condition in one of the condition expressions is not met", docs.aws.amazon.com/amazondynamodb/latest/
        APIReference/API_TransactWriteItems.html), and its records are then written one by one, so each gets the
        answer `mark_pending` gives it alone. Each Put is authorized as a PutItem (transaction-apis-iam.html)."""
        marked: set[str] = set()
        client = self._t.table.meta.client
        for start in range(0, len(records), TRANSACT_LIMIT):
            batch = records[start:start + TRANSACT_LIMIT]
            puts = [{"Put": {"TableName": self._t.name, **self._UNLESS_SYNCED,
                             "ExpressionAttributeValues": {":synced": {"S": "synced"}},
                             "Item": {k: _SERIALIZER.serialize(v) for k, v in
                                      self._item(kind, record_id, "pending", identity, content_hash).items()}}}
                    for record_id, identity, content_hash in batch]
            try:
                client.transact_write_items(TransactItems=cast("list[TransactWriteItemTypeDef]", puts))
            except ClientError as err:
                if err.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                marked.update(str(r) for r, identity, content_hash in batch
                              if self.mark_pending(kind, r, identity, content_hash))
                continue
            marked.update(str(record_id) for record_id, _, _ in batch)
        return marked

    def record(self, kind: str, autotask_id: str | int, *, xero_id: str, identity: Identity, content_hash: str,
               xero_number: str | None = None, extra: MapExtra | None = None) -> MapEntry:
        """Store the outcome in both directions: the reverse entry first, then the forward one.

        Two writes, not a transaction: the forward entry is the truth and is written last, so a crash in
        between leaves it pending and the next run looks Xero up and records again (the reverse entry is
        derived and rewriting it is harmless). Transactions would cost twice the capacity for no gain.
        """
        self.record_many(kind, [Recorded(autotask_id, xero_id, identity, content_hash, xero_number, extra or {})])
        entry = self.get(kind, autotask_id)
        assert entry is not None
        return entry

    def record_many(self, kind: str, outcomes: list[Recorded]) -> None:
        """`record` for a batch, 25 per BatchWriteItem: every reverse entry first, then every forward entry
        (the truth) last."""
        with self._t.table.batch_writer() as batch:
            for o in outcomes:
                batch.put_item(Item={**reverse_map_key(kind, o.xero_id), "kind": kind,
                                     "autotask_id": str(o.autotask_id)})
        with self._t.table.batch_writer() as batch:
            for o in outcomes:
                item = {**self._item(kind, o.autotask_id, "synced", o.identity, o.content_hash),
                        "xero_id": o.xero_id}
                item.update({k: v for k, v in (("xero_number", o.xero_number), ("extra", o.extra)) if v})
                batch.put_item(Item=item)

    def refused(self, kind: str, autotask_id: str | int) -> bool:
        """Xero refused the create: pending -> failed. Never over a synced entry (another run's success)."""
        return unless_condition_fails(lambda: self._t.table.update_item(
            Key=map_key(kind, autotask_id), UpdateExpression="SET #s = :failed, updated_at = :u",
            ConditionExpression="#s = :pending", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":failed": "failed", ":pending": "pending", ":u": int(self._t.now())},
        )) is not None

    def retry(self, kind: str, autotask_id: str | int) -> None:
        """A person fixed a refused record: send it again (a failed entry becomes pending, so the next run
        looks Xero up before it creates anything)."""
        entry = self.get(kind, autotask_id)
        if entry is not None and entry.status == "failed":
            self.mark_pending(kind, autotask_id, entry.identity, "retry")

    def set_status(self, kind: str, autotask_id: str | int, status: Status) -> None:
        self._t.table.update_item(
            Key=map_key(kind, autotask_id), UpdateExpression="SET #s = :s, updated_at = :u",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": status, ":u": int(self._t.now())},
        )
