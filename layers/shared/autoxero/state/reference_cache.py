"""Xero's reference data kept in the table between runs, one item per list (`CACHE#xero-<piece>`).

Each piece (accounts, tax rates, items, ...) is stored as Xero sent it, with when it was read, the settings
it was read under and a fingerprint of its content. A piece is fresh while it is younger than the TTL and the
settings have not changed since (a `settings push`, from the CLI or the console, invalidates every piece);
`forget` drops pieces at once (when Xero refuses a code the cache said existed). The fingerprint outlives
freshness: it says which version of a list a held document was refused against, without a Xero call.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from autoxero.state.table import StateTable, cache_key

XERO_REFERENCE_TTL_SECONDS = 6 * 3600
_KEEP_SECONDS = 7 * 86_400


def _name(piece: str) -> str:
    return f"xero-{piece}"


def fingerprint(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CachedPiece:
    document: str  # JSON, as the adapter's models dump it
    read_at: float
    settings: str  # the settings fingerprint it was read under
    fingerprint: str

    def fresh(self, now: float, settings: str, ttl: float = XERO_REFERENCE_TTL_SECONDS) -> bool:
        return self.settings == settings and now - self.read_at < ttl


def _piece(item: dict[str, Any] | None) -> CachedPiece | None:
    if not item or "document" not in item:
        return None
    return CachedPiece(str(item["document"]), float(str(item["read_at"])), str(item.get("settings", "")),
                       str(item["fingerprint"]))


class ReferenceCache:
    def __init__(self, table: StateTable) -> None:
        self._t = table

    def now(self) -> float:
        return self._t.now()

    def get(self, piece: str) -> CachedPiece | None:
        return _piece(self._t.get(cache_key(_name(piece)), consistent=False))

    def get_many(self, pieces: list[str]) -> dict[str, CachedPiece]:
        """The stored pieces among `pieces`, fresh or not: one BatchGetItem."""
        items = self._t.get_many([cache_key(_name(p)) for p in pieces], consistent=False)
        found = {p: _piece(items.get((cache_key(_name(p))["pk"], cache_key(_name(p))["sk"]))) for p in pieces}
        return {p: entry for p, entry in found.items() if entry is not None}

    def put(self, piece: str, document: str, settings: str) -> CachedPiece:
        entry = CachedPiece(document, self._t.now(), settings, fingerprint(document))
        self._t.table.put_item(Item={**cache_key(_name(piece)), "document": entry.document,
                                     "read_at": int(entry.read_at), "settings": settings,
                                     "fingerprint": entry.fingerprint, "ttl": int(entry.read_at) + _KEEP_SECONDS})
        return entry

    def forget(self, pieces: set[str] | list[str]) -> None:
        for piece in pieces:
            self._t.table.delete_item(Key=cache_key(_name(piece)))
