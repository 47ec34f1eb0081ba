"""The Autotask PSA REST client (v1.0): what autoxero reads and writes, over the transport
(autotask/transport.py: zone, limits, pacing, retries).

- queries POSTed with `MaxRecords` 500, following `pageDetails.nextPageUrl` by re-POSTing the same body, and
  falling back to id paging (`id gt <max id seen>`) if that URL is refused (404/405) or unusable (§5);
- PATCH-only updates (there is deliberately no PUT here: PUT nulls every field it is not sent, pitfall 6);
  child entities are written through their parent's URL (pitfall 13).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from autoxero.autotask.errors import AutotaskError, AutotaskNotFound, AutotaskValidationError
from autoxero.autotask.models import FieldInfo, Picklist, ThresholdInformation
from autoxero.autotask.query import Filter, Query, chunked_in
from autoxero.autotask.records import RecordWatcher, validate_each
from autoxero.autotask.transport import AutotaskTransport, entity_name
from autoxero.autotask.zone import DynamoZoneCache, MemoryZoneCache, ZoneCache
from autoxero.observability import logger
from autoxero.secrets.documents import AutotaskCredentials

__all__ = ["AutotaskClient", "AutotaskCredentials", "DynamoZoneCache", "MemoryZoneCache", "ZoneCache"]

M = TypeVar("M", bound=BaseModel)

_PAGING_FALLBACK_STATUSES = frozenset({404, 405})

# Child entities are written through the parent URL, whose last segment is not always the entity's name.
_CHILD_SEGMENTS: dict[tuple[str, str], str] = {
    ("purchaseorders", "purchaseorderitems"): "Items",
    ("companies", "contacts"): "Contacts",
    **{(f"{kind}webhooks", f"{kind}webhook{child}".lower()): segment
       for kind in ("company", "contact")
       for child, segment in (("fields", "Fields"), ("udffields", "UdfFields"),
                              ("excludedresources", "ExcludedResources"))},
}


def _items(page: Any) -> list[dict[str, Any]]:
    items = page.get("items") if isinstance(page, Mapping) else None
    if not isinstance(items, list):
        raise AutotaskValidationError("Autotask answered a query without an items list.")
    return items


def _next_page_url(page: Any) -> str | None:
    details = page.get("pageDetails") if isinstance(page, Mapping) else None
    url = details.get("nextPageUrl") if isinstance(details, Mapping) else None
    return url if isinstance(url, str) and url else None


def _max_id(items: Sequence[Mapping[str, Any]], current: int | None) -> int | None:
    for item in items:
        value = item.get("id")
        if isinstance(value, int) and not isinstance(value, bool) and (current is None or value > current):
            current = value
    return current


class AutotaskClient(AutotaskTransport):
    """One Autotask API user against its tenant. Thread-safe; one per invocation is enough."""

    def __init__(self, credentials: AutotaskCredentials, **options: Any) -> None:
        super().__init__(credentials, **options)
        self._fields: dict[str, dict[str, FieldInfo]] = {}
        self._fields_lock = threading.Lock()
        self.records: RecordWatcher | None = None  # told of each record read; a flow run sets itself here

    # --- reads -------------------------------------------------------------------------------------

    def _same_origin(self, url: str) -> bool:
        """Credentials only ever go to the zone's own host."""
        try:
            candidate, base = httpx.URL(url), httpx.URL(self.base_url)
        except (httpx.InvalidURL, TypeError, ValueError):
            return False
        return (candidate.scheme in ("http", "https") and candidate.scheme == base.scheme
                and candidate.host.lower() == base.host.lower() and candidate.port == base.port
                and bool(candidate.path))

    def query(self, entity: str, query: Query) -> Iterator[dict[str, Any]]:
        """Every record matching `query`, page by page (lazily; nothing is held between pages)."""
        entity = entity_name(entity)
        body = query.body()
        page = self._call("POST", entity, f"{entity}/query", body=body)
        last_id: int | None = None
        followed: set[str] = set()
        while True:
            items = _items(page)
            last_id = _max_id(items, last_id)
            yield from items
            next_url = _next_page_url(page)
            if next_url is None:
                return
            if not self._same_origin(next_url) or next_url in followed:
                logger.warning("autotask nextPageUrl unusable; paging by id", extra={"entity": entity})
                break
            followed.add(next_url)
            try:
                page = self._call("POST", entity, url=next_url, body=body)
            except AutotaskError as err:
                if err.status not in _PAGING_FALLBACK_STATUSES:
                    raise
                logger.info("autotask nextPageUrl refused; paging by id",
                            extra={"entity": entity, "status": err.status})
                break
        yield from self._query_by_id(entity, query, last_id)

    def _query_by_id(self, entity: str, query: Query, last_id: int | None) -> Iterator[dict[str, Any]]:
        if last_id is None:
            raise AutotaskValidationError(f"Autotask ({entity}) returned a page without record ids, so the "
                                          "remaining pages cannot be read.", entity=entity)
        while True:
            page_query = query.after_id(last_id)
            items = _items(self._call("POST", entity, f"{entity}/query", body=page_query.body()))
            yield from items
            new_last = _max_id(items, last_id)
            if len(items) < page_query.max_records or not items:
                return
            if new_last is None or new_last <= last_id:
                raise AutotaskValidationError(f"Autotask ({entity}) id paging made no progress.", entity=entity)
            last_id = new_last

    def query_models(self, entity: str, model: type[M], query: Query) -> Iterator[M]:
        """The matching records as `model`, validated one by one (a malformed one goes to `self.records`)."""
        yield from validate_each(entity, model, self.query(entity, query), self.records)

    def query_in(self, entity: str, model: type[M], field: str, ids: Iterable[int | str],
                 extra_filters: Sequence[Filter] = (), *, include_fields: Iterable[str] | None = None) -> Iterator[M]:
        """Records whose `field` is one of `ids`, in as few queries as the 500-OR limit allows."""
        for chunk in chunked_in(field, ids, extra=extra_filters, include_fields=include_fields):
            yield from self.query_models(entity, model, chunk)

    def count(self, entity: str, query: Query) -> int:
        entity = entity_name(entity)
        data = self._call("POST", entity, f"{entity}/query/count", body={"Filter": query.body()["Filter"]})
        try:
            return int(data["queryCount"])
        except (KeyError, TypeError, ValueError):
            raise AutotaskValidationError(f"Autotask ({entity}) answered a count without a number.",
                                          entity=entity) from None

    def get(self, entity: str, item_id: int) -> dict[str, Any] | None:
        """One record by id, or None if there is none."""
        entity = entity_name(entity)
        try:
            data = self._call("GET", entity, f"{entity}/{int(item_id)}")
        except AutotaskNotFound as err:
            if err.status == 404 and "no http resource" not in err.detail.lower():
                return None
            raise
        item = data.get("item") if isinstance(data, Mapping) else None
        return dict(item) if isinstance(item, Mapping) else None

    def fields(self, entity: str) -> dict[str, FieldInfo]:
        """The tenant's field rules for an entity (read-only, queryable, picklists); cached per client."""
        key = entity_name(entity).lower()
        with self._fields_lock:
            cached = self._fields.get(key)
        if cached is not None:
            return cached
        data = self._call("GET", entity, f"{entity}/entityInformation/fields")
        raw = data.get("fields") if isinstance(data, Mapping) else None
        if not isinstance(raw, list):
            raise AutotaskValidationError(f"Autotask ({entity}) sent no field list.", entity=entity)
        result = {info.name: info for info in (FieldInfo.model_validate(f) for f in raw)}
        with self._fields_lock:
            self._fields[key] = result
        return result

    def picklist(self, entity: str, field: str) -> Picklist:
        wanted = field.lower()
        info = next((f for name, f in self.fields(entity).items() if name.lower() == wanted), None)
        if info is None:
            raise AutotaskValidationError(f"Autotask ({entity}) has no field called {field}.", entity=entity)
        if not info.isPickList:
            raise AutotaskValidationError(f"The Autotask field {entity}.{info.name} is not a picklist.",
                                          entity=entity)
        return info.picklist()

    def entity_information(self, entity: str) -> dict[str, Any]:
        """What the API user may do with an entity (GET {entity}/entityInformation: canQuery, canUpdate,
        userAccessForUpdate, ...; Autotask REST API "Finding resource and entity information")."""
        data = self._call("GET", entity, f"{entity}/entityInformation")
        info = data.get("info") if isinstance(data, Mapping) else None
        return dict(info) if isinstance(info, Mapping) else {}

    def udf_names(self, entity: str) -> list[str]:
        """The user-defined fields the tenant has on an entity (GET {entity}/entityInformation/userDefinedFields,
        Autotask REST API: "Finding resource and entity information and field definitions")."""
        data = self._call("GET", entity, f"{entity}/entityInformation/userDefinedFields")
        raw = data.get("fields") if isinstance(data, Mapping) else None
        return [str(f["name"]) for f in raw or [] if isinstance(f, Mapping) and f.get("name")]

    def threshold(self) -> ThresholdInformation:
        """The database's hourly request budget and its use (this call counts against it)."""
        return self._read_threshold()

    # --- writes ------------------------------------------------------------------------------------

    @staticmethod
    def _write_path(entity: str, parent: tuple[str, int] | None) -> tuple[str, str]:
        """(path, limiter endpoint) of a write: flat, or through the parent for a child entity."""
        if parent is None:
            return entity_name(entity), entity
        parent_entity, parent_id = entity_name(parent[0]), parent[1]
        entity_name(entity)
        segment = _CHILD_SEGMENTS.get((parent_entity.lower(), entity.lower()), entity)
        return f"{parent_entity}/{int(parent_id)}/{segment}", parent_entity

    @staticmethod
    def _item_id(data: Any, entity: str) -> int:
        try:
            return int(data["itemId"])
        except (KeyError, TypeError, ValueError):
            raise AutotaskValidationError(f"Autotask ({entity}) did not say which record it wrote.",
                                          entity=entity) from None

    def patch(self, entity: str, body: Mapping[str, Any], parent: tuple[str, int] | None = None) -> int:
        """Change only the fields in `body` (which must carry the record's `id`); the record's id back.

        The only update method: PUT would null every writable field not sent (pitfall 6).
        """
        record_id = body.get("id")
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            raise ValueError("a PATCH body must carry the record's integer id")
        path, endpoint = self._write_path(entity, parent)
        return self._item_id(self._call("PATCH", entity, path, body=dict(body), endpoint=endpoint), entity)

    def create(self, entity: str, body: Mapping[str, Any], parent: tuple[str, int] | None = None) -> int:
        """Create a record; a child entity (Contacts, PurchaseOrderItems) through `parent=(entity, id)`.

        Not retried once the request may have reached Autotask (timeout, broken connection, 502/504): the
        error is then `AutotaskUnavailable(uncertain=True)` and the caller must look before creating again.
        """
        path, endpoint = self._write_path(entity, parent)
        data = self._call("POST", entity, path, body=dict(body), endpoint=endpoint, idempotent=False)
        return self._item_id(data, entity)
