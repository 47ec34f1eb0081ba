"""moto's DynamoDB Query, made linear for the 10,000-invoice backfill: same answers, less work.

moto 5 answers a table Query by listing every item of the table and keeping those of the queried partition
(moto/dynamodb/models/table.py, `Table.query`: `[item for item in self.all_items() if item.hash_key ==
hash_key]`), so each Query costs the whole table. The backfill's table holds tens of thousands of items (id
map both ways, ledger) and the pacing reads its minute counters with a Query every few hundred requests: the
bench became quadratic in moto, not in autoxero. DynamoDB itself reads one partition. Here a table Query
(not an index Query) hands moto's own code only that partition's items; moto still sorts, pages, filters and
projects them, so the result is what unpatched moto returns.

The same for a global index's Query: moto walks every item of the table comparing moto's typed values
(DynamoType equality, ~100 ms for the demo's 740 items: the console's attention list cost more than all its
other reads together), where DynamoDB reads the index's one partition. Here the items of that partition are
picked by their raw key values and handed to moto's own code, which still checks, sorts, pages and projects
them as it always does (tests/unit/test_fastmoto.py compares answers with unpatched moto).

And a projection (GetItem, BatchGetItem, Query with ProjectionExpression): moto turns the WHOLE item into plain
JSON once per projected path (moto/dynamodb/models/dynamo_type.py, `Item.project`), so projecting three small
attributes of an id map entry that carries its invoice's lines converts those lines three times (~2 ms an
item: the reconciliation's 132 statuses cost 200 ms of moto). DynamoDB reads the item once. Here only the
top-level attributes a path names are converted, once each, and moto's own `find_nested_key`/`merge_dicts`
pick the paths from them, as moto does from the whole item.
"""

from __future__ import annotations

import inspect
import re
import threading
from typing import Any

from botocore.utils import merge_dicts
from moto.dynamodb.models import dynamo_type
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import find_nested_key

_lock = threading.Lock()
_original_query = Table.query
_signature = inspect.signature(_original_query)


def _index_partition(self: Table, index_name: str, conditions: list[tuple[str, Any]] | None,
                     hash_key: Any) -> list[Any] | None:
    """The items in one partition of a global index (those whose index key attributes hold the queried
    values), or None when the query is not one this patch understands (moto's own code then answers)."""
    index = next((i for i in self.global_indexes if i.name == index_name), None)
    if index is None:
        return None
    attributes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    wanted = dict(conditions or ())
    if not wanted and len(attributes) == 1 and hash_key is not None:
        wanted = {attributes[0]: hash_key}
    if set(wanted) != set(attributes):
        return None
    raw = {name: (value.type, value.value) for name, value in wanted.items()}
    return [item for item in self.all_items()
            if all((a := item.attrs.get(name)) is not None and (a.type, a.value) == typed
                   for name, typed in raw.items())]


def _partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    arguments = _signature.bind(self, hash_key, *args, **kwargs).arguments
    index_name = arguments.get("index_name")
    if index_name:
        partition = _index_partition(self, index_name, arguments.get("hash_key_conditions"), hash_key)
        if partition is None:
            return _original_query(self, hash_key, *args, **kwargs)
        items: list[Any] = partition
    elif not self.range_key_attr or hash_key is None:
        return _original_query(self, hash_key, *args, **kwargs)
    else:
        items = list((self.items.get(hash_key) or {}).values())
    with _lock:  # the instance attribute below shadows all_items for this call only
        self.all_items = lambda: items  # type: ignore[method-assign]
        try:
            return _original_query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items


_original_project = Item.project
_LIST_ITEM = re.compile(r"(.+)\[(\d+)\]$")  # moto's own pattern for "name[n]" (utilities.find_nested_key)


def _project(self: Item, projection_expressions: list[list[str]]) -> Item:
    named = {(m.group(1) if (m := _LIST_ITEM.match(path[0])) else path[0]) for path in projection_expressions}
    plain = {name: dynamo_type.deserializer.deserialize(self.attrs[name].to_regular_json())
             for name in named if name in self.attrs}
    result: dict[str, Any] = {}
    for path in projection_expressions:
        merge_dicts(result, find_nested_key(path, plain))
    return Item(hash_key=self.hash_key, range_key=self.range_key,
                attrs=dynamo_type.serializer.serialize(result)["M"])


def install() -> None:
    Table.query = _partition_query  # type: ignore[method-assign]
    Item.project = _project  # type: ignore[method-assign]
