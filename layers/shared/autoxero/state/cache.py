"""Cached documents (reference data, the Autotask zone, the token-refresh marker): small items with an expiry,
kept in the table so that every invocation shares them."""

from __future__ import annotations

from dataclasses import dataclass

from autoxero.state.table import StateTable, cache_key

_KEEP_AFTER_EXPIRY = 86_400  # DynamoDB's TTL sweeps an item a day after it stopped being useful


@dataclass(frozen=True, slots=True)
class CacheEntry:
    document: str
    expires_at: float
    owner: str = ""  # whose view of the world it is (e.g. the Autotask user that discovered a zone)


class Cache:
    def __init__(self, table: StateTable) -> None:
        self._t = table

    def get(self, name: str) -> CacheEntry | None:
        item = self._t.get(cache_key(name))
        if not item or "document" not in item:
            return None
        return CacheEntry(str(item["document"]), float(item.get("expires_at", 0)), str(item.get("owner", "")))

    def put(self, name: str, entry: CacheEntry) -> None:
        self._t.table.put_item(Item={**cache_key(name), "document": entry.document, "owner": entry.owner,
                                     "expires_at": int(entry.expires_at),
                                     "ttl": int(entry.expires_at + _KEEP_AFTER_EXPIRY)})

    def drop(self, name: str) -> None:
        self._t.table.delete_item(Key=cache_key(name))
