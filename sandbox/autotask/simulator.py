"""The Autotask tenant in memory: records, credentials, limits, webhooks.

Everything a request can change is guarded by `self.lock`; HTTP handlers (sandbox/autotask/app.py) call the
`api_*` methods, which raise `AutotaskError` to answer the way Autotask does. `touch` and `create` are what a
person or Autotask's own billing does (they bypass API rules); tests and the control API use them.
"""

from __future__ import annotations

import bisect
import copy
import math
import threading
import uuid
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from sandbox.autotask import webhooks as wh
from sandbox.autotask.errors import AutotaskError, method_not_allowed
from sandbox.autotask.query import MAX_PAGE, parse_query
from sandbox.autotask.schema import (
    COMPANY_TYPE_VENDOR,
    DATETIME,
    ENTITIES,
    PO_CANCEL,
    PO_NEW,
    PO_RECEIVED_PARTIAL,
    PO_SUBMITTED,
    STRING,
    WEBHOOK_RESOURCES,
    EntityDef,
    FieldDef,
    entity,
    webhook_field_id,
)
from sandbox.autotask.values import coerce_write, format_datetime, to_decimal
from sandbox.core import CallLog, FaultInjector, SandboxClock

API_RESOURCE_ID = 29682900   # the API user's resource: PersonID of changes made through the API
UI_RESOURCE_ID = 29682885    # a person working in the Autotask UI: PersonID of `touch`
HOUR = 3600.0
UDF_KEY = "userDefinedFields"
FIXTURE_UDF_KEY = "userDefinedFieldDefinitions"
_DATE_ONLY = {("Invoices", "paidDate")}
_IMMUTABLE = {("Contacts", "companyID"), ("PurchaseOrders", "vendorID"), ("PurchaseOrderItems", "orderID")}
_UNCHECKED_REFERENCES = {"Resources"}
OWN_COMPANY = {"id": 0, "companyName": "Harbour IT Ltd", "companyType": 1, "isActive": True, "phone": "09 555 0000",
               "ownerResourceID": UI_RESOURCE_ID, "city": "Auckland", "countryID": 153}

Record = dict[str, Any]


@dataclass
class QueryPage:
    items: list[Record]
    total: int
    max_records: int
    next_after: int | None
    has_prev: bool
    prev_after: int | None


def _resolve(name: str) -> EntityDef:
    e = entity(name)
    if e is None:
        raise KeyError(f"unknown Autotask entity {name!r}")
    return e


def _money(value: Decimal) -> float:
    """Autotask keeps money to 4 places (a recorded BillingItems response: contractika-org/contractika
    contractika/data/at/billingitems.php, "extendedPrice": 386.6450)."""
    return float(value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


class AutotaskSimulator:
    def __init__(self, clock: SandboxClock, *, thread_limit: int = 3, hourly_limit: int = 10_000,
                 other_integrations_per_hour: float = 0) -> None:
        self.clock = clock
        self.faults = FaultInjector()
        self.calls = CallLog()
        self.lock = threading.RLock()
        self.default_limits = (thread_limit, hourly_limit)
        self.thread_limit = thread_limit
        self.hourly_limit = hourly_limit
        self.zone: dict[str, Any] = {"zoneName": "Sandbox (local)", "ci": 100001}
        self.webhooks = wh.WebhookQueue()
        self.zone_less_datetimes = False   # answer datetimes as older tenants do, without a zone (see _wire_value)
        self._users: dict[str, dict[str, Any]] = {}
        self._codes: set[str] = set()
        self._inflight_lock = threading.Lock()
        self._inflight: Counter[tuple[str, str]] = Counter()
        self._requests: deque[float] = deque()
        # Other integrations on the same database (RMM, backup, quoting, ...): a steady background rate.
        self._background_rate = 0.0  # requests an hour
        self._background_since = 0.0
        self.refused_hourly = 0  # requests refused for the hourly threshold, this API user's and others'
        self.peak_count = 0  # the highest rolling-hour count any request saw, others' traffic included
        self._clear_data()
        if other_integrations_per_hour:
            self.other_integrations(other_integrations_per_hour)

    # --- setup -------------------------------------------------------------------------------------

    def _clear_data(self) -> None:
        self._data: dict[str, dict[int, Record]] = {name: {} for name in ENTITIES}
        self._udf_defs: dict[str, list[dict[str, Any]]] = {name: [] for name in ENTITIES}
        self._next_id: dict[str, int] = {name: e.first_id for name, e in ENTITIES.items()}
        self._sequence: Counter[tuple[str, int]] = Counter()
        self._failures: Counter[tuple[str, int]] = Counter()
        self.webhooks.clear()
        self._ensure_own_company()

    def _ensure_own_company(self) -> None:
        """Company id 0, the MSP's own company, exists in every tenant (`Companies.get(0) // the root company`,
        apigrate/autotask-restapi README; its CompanyToDos example creates under company id 0). Its company type is
        not documented: it gets Customer here, the case in which a sync would wrongly treat it as a customer."""
        if 0 not in self._data["Companies"]:
            e = ENTITIES["Companies"]
            self._store_new(e, self._ingest(e, OWN_COMPANY))

    def reset(self) -> None:
        """Back to an empty tenant: no records, no webhooks, no counters, no faults, default limits.
        Credentials stay (they are configuration), and so does the clock (it may be shared)."""
        with self.lock:
            self._clear_data()
            self._requests.clear()
            self.thread_limit, self.hourly_limit = self.default_limits
            self._background_rate, self.refused_hourly, self.peak_count = 0.0, 0, 0
            self.webhooks.signing, self.webhooks.timeout = "escaped", 10.0
            self.zone_less_datetimes = False
        self.calls.reset()
        self.faults.clear()

    def load_credentials(self, creds: Mapping[str, Any]) -> None:
        """Add an API user (`username`, `secret`, `integration_code`, optional `resource_id`)."""
        username, secret, code = creds["username"], creds["secret"], creds["integration_code"]
        with self.lock:
            self._users[str(username).lower()] = {
                "username": username, "secret": secret,
                "resource_id": int(creds.get("resource_id", API_RESOURCE_ID))}
            self._codes.add(str(code))

    def load(self, data: Mapping[str, Any]) -> None:
        """Replace all records with a fixture's "autotask" section (a whole demo.json is accepted too)."""
        if isinstance(data.get("autotask"), Mapping):
            creds = (data.get("sandbox") or {}).get("autotask")
            if creds:
                self.load_credentials(creds)
            data = data["autotask"]
        with self.lock:
            self._clear_data()
            if "zone" in data:
                self.zone.update(data["zone"])
            for entity_name, defs in (data.get(FIXTURE_UDF_KEY) or {}).items():
                self._load_udf_defs(_resolve(entity_name), defs)
            for key, records in data.items():
                if key in (FIXTURE_UDF_KEY, "zone"):
                    continue
                e = _resolve(key)
                for raw in records:
                    rec = self._ingest(e, raw)
                    if e.name in wh_resources() and rec["webhookGUID"] is None:
                        rec["webhookGUID"] = str(uuid.uuid4())
                    self._store_new(e, rec)
            self._ensure_own_company()
            self._refresh_webhook_readiness()

    def _load_udf_defs(self, e: EntityDef, defs: list[Mapping[str, Any]]) -> None:
        if not e.has_udfs:
            raise ValueError(f"{e.name} has no user-defined fields")
        for i, d in enumerate(defs, start=1):
            self._udf_defs[e.name].append({
                "id": int(d.get("id", i)), "name": d["name"], "label": d.get("label", d["name"]),
                "dataType": d.get("dataType", STRING), "length": int(d.get("length", 100)),
                "isRequired": bool(d.get("isRequired", False)), "isReadOnly": False, "isQueryable": True,
                "isPickList": False, "picklistValues": None, "isSupportedWebhookField": True,
                "description": d.get("description", ""),
            })

    def _ingest(self, e: EntityDef, raw: Mapping[str, Any]) -> Record:
        """A fixture or billing record into stored form: types checked, read-only rules not applied."""
        rec = self._blank(e)
        for key, value in raw.items():
            if key.lower() == UDF_KEY.lower():
                for name, udf_value in self._udf_items(e, value):
                    rec[UDF_KEY][name] = udf_value
                continue
            f = e.lookup(key)
            if f is None:
                raise ValueError(f"{e.name}: unknown field {key!r}")
            if value is not None:
                try:
                    rec[f.name] = self._coerce(e, f, value)
                except AutotaskError as exc:
                    raise ValueError(str(exc)) from None
        if rec["id"] is None:
            rec["id"] = self._next_id[e.name]
        if rec["id"] in self._data[e.name]:
            raise ValueError(f"{e.name}: duplicate id {rec['id']}")
        return rec

    def _blank(self, e: EntityDef) -> Record:
        rec: Record = dict.fromkeys(e.fields)
        rec[UDF_KEY] = {d["name"]: None for d in self._udf_defs[e.name]}
        return rec

    def _store_new(self, e: EntityDef, rec: Record) -> None:
        self._data[e.name][rec["id"]] = rec
        self._next_id[e.name] = max(self._next_id[e.name], rec["id"] + 1)

    def _coerce(self, e: EntityDef, f: FieldDef, value: Any) -> Any:
        if value is not None and (e.name, f.name) in _DATE_ONLY:
            # "invoice.paidDate ignores time stamp information and stores the date only" (InvoicesEntity.htm);
            # for date-only fields "we don't convert timezone datetime values ..., we just set the time portion
            # to midnight and accept the date value" (REST_API_Calls.htm): the date as written, never shifted.
            coerce_write(e.name, f, value)  # type and format checks
            return f"{str(value).strip()[:10]}T00:00:00Z"
        return coerce_write(e.name, f, value)

    def _udf_items(self, e: EntityDef, value: Any) -> list[tuple[str, Any]]:
        """`[{name, value}]` (or a plain mapping) → validated (name, value) pairs."""
        pairs: list[tuple[Any, Any]]
        if isinstance(value, Mapping):
            pairs = list(value.items())
        elif isinstance(value, list) and all(isinstance(x, Mapping) for x in value):
            pairs = [({k.lower(): v for k, v in x.items()}.get("name"),
                      {k.lower(): v for k, v in x.items()}.get("value")) for x in value]
        else:
            raise AutotaskError(f"userDefinedFields on entity {e.name} must be an array of {{name, value}}.")
        by_name = {d["name"].lower(): d for d in self._udf_defs[e.name]}
        out = []
        for name, udf_value in pairs:
            d = by_name.get(str(name).lower())
            if d is None:
                raise AutotaskError(f"Unable to find user-defined field {name} on entity {e.name}.")
            f = FieldDef(d["name"], d["dataType"], length=d["length"])
            out.append((d["name"], coerce_write(e.name, f, udf_value)))
        return out

    # --- reads -------------------------------------------------------------------------------------

    def _wire(self, e: EntityDef, rec: Record, include: list[str] | None = None,
              include_udfs: list[str] | None = None) -> Record:
        names = include or list(e.fields)
        out = {name: self._wire_value(e.fields[name], rec[name]) for name in names}
        udfs = [n for n in rec[UDF_KEY] if not include or n in (include_udfs or [])]
        out[UDF_KEY] = [{"name": n, "value": rec[UDF_KEY][n]} for n in udfs]
        return out

    def _wire_value(self, f: FieldDef, value: Any) -> Any:
        """Older Autotask responses write datetimes without a zone ("2016-03-30T13:10:35.563", apigrate/
        autotask-restapi README); they are UTC all the same (REST_API_Calls.htm, "Timestamp format")."""
        if self.zone_less_datetimes and f.data_type == DATETIME and isinstance(value, str) and value.endswith("Z"):
            return value[:-1]
        return value

    def udf_definitions(self, e: EntityDef) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._udf_defs[e.name])

    def api_get(self, e: EntityDef, item_id: int, *, parent_id: int | None = None) -> Record | None:
        with self.lock:
            rec = self._data[e.name].get(item_id)
            if rec is None or (parent_id is not None and e.child_of and rec[e.child_of.parent_field] != parent_id):
                return None
            return self._wire(e, rec)

    def _matching(self, e: EntityDef, body: Any) -> tuple[Any, list[Record]]:
        with self.lock:
            query = parse_query(e, body, {d["name"]: d for d in self._udf_defs[e.name]})
            table = self._data[e.name]
            return query, [table[i] for i in sorted(table) if query.predicate(table[i])]

    def api_query(self, e: EntityDef, body: Any, *, after_id: int | None = None) -> QueryPage:
        query, matched = self._matching(e, body)
        total = len(matched)
        if query.include_fields and total > MAX_PAGE and "id" not in query.include_fields:
            raise AutotaskError("IncludeFields must include id when the search returns more than 500 results.")
        ids = [rec["id"] for rec in matched]
        start = 0 if after_id is None else bisect.bisect_right(ids, after_id)
        size = query.max_records
        with self.lock:
            page = matched[start:start + size]
            items = [self._wire(e, rec, query.include_fields, query.include_udfs) for rec in page]
        next_after = ids[start + size - 1] if start + size < total else None
        prev_start = max(0, start - size)
        prev_after = ids[prev_start - 1] if prev_start > 0 else None
        return QueryPage(items=items, total=total, max_records=size, next_after=next_after,
                         has_prev=start > 0, prev_after=prev_after)

    def api_count(self, e: EntityDef, body: Any) -> int:
        return len(self._matching(e, body)[1])

    def state(self, name: str) -> list[Record]:
        """Every record of an entity in wire form (for tests and `GET /_sandbox/state/{Entity}`)."""
        e = _resolve(name)
        with self.lock:
            return [self._wire(e, self._data[e.name][i]) for i in sorted(self._data[e.name])]

    def record(self, name: str, item_id: int) -> Record:
        e = _resolve(name)
        with self.lock:
            return self._wire(e, self._data[e.name][item_id])

    # --- API writes --------------------------------------------------------------------------------

    def _check_route(self, e: EntityDef, method: str, parent_id: int | None) -> None:
        if e.child_of is None and parent_id is not None:
            raise AutotaskError(f"{e.name} is not a child entity.", status=404)
        if e.child_of is not None and parent_id is None:
            raise method_not_allowed(method)
        if e.child_of is not None and parent_id not in self._data[e.child_of.parent]:
            raise AutotaskError(f"Unable to find {e.child_of.parent} with id {parent_id}.")

    def _changes(self, e: EntityDef, body: Any, current: Record | None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Validated (field changes, UDF changes) of an API body; read-only fields rejected when they differ."""
        if not isinstance(body, Mapping):
            raise AutotaskError("The request body must be a JSON object.")
        changes: dict[str, Any] = {}
        udfs: dict[str, Any] = {}
        for key, value in body.items():
            if str(key).lower() == UDF_KEY.lower():
                udfs.update(self._udf_items(e, value))
                continue
            f = e.lookup(str(key))
            if f is None:
                raise AutotaskError(f"Unable to find field {key} on entity {e.name}.")
            if f.name == "id":
                continue
            stored = self._coerce(e, f, value)
            if f.read_only:
                if current is not None and stored != current[f.name]:
                    raise AutotaskError(f"The field {f.name} on entity {e.name} is read-only and cannot be updated.")
                continue
            changes[f.name] = stored
        return changes, udfs

    def _check_references(self, e: EntityDef, changes: Mapping[str, Any]) -> None:
        for name, value in changes.items():
            ref = e.fields[name].reference
            if value is None or ref is None or ref in _UNCHECKED_REFERENCES or not self._data.get(ref):
                continue
            if value not in self._data[ref]:
                raise AutotaskError(f"Value {value} of field {name} on entity {e.name} does not reference an "
                                    f"existing {ref} record.")

    def api_create(self, e: EntityDef, body: Any, *, resource_id: int, parent_id: int | None = None) -> int:
        with self.lock:
            if not e.can_create:
                raise method_not_allowed("POST")
            self._check_route(e, "POST", parent_id)
            changes, udfs = self._changes(e, body, None)
            if e.child_of is not None:
                field_name = e.child_of.parent_field
                if changes.get(field_name) not in (None, parent_id):
                    raise AutotaskError(f"The {field_name} in the body does not match the parent id in the URL.")
                changes[field_name] = parent_id
            missing = [f.name for f in e.fields.values()
                       if f.required and not f.read_only and changes.get(f.name) is None]
            if missing:
                raise AutotaskError(*(f"Field {name} on entity {e.name} is required." for name in missing))
            self._check_references(e, changes)
            self._rules(e, None, changes)
            rec = self._blank(e)
            rec.update(changes)
            rec[UDF_KEY].update(udfs)
            rec["id"] = self._next_id[e.name]
            self._stamp(e, rec, created=True)
            self._on_create(e, rec, resource_id)
            self._store_new(e, rec)
            self._after_write(e, rec)
            self._fire(e, "Create", rec, resource_id)
            return int(rec["id"])

    def api_update(self, e: EntityDef, body: Any, *, replace: bool, resource_id: int,
                   parent_id: int | None = None) -> int:
        method = "PUT" if replace else "PATCH"
        with self.lock:
            if not e.can_update:
                raise method_not_allowed(method)
            self._check_route(e, method, parent_id)
            if not isinstance(body, Mapping):
                raise AutotaskError("The request body must be a JSON object.")
            item_id = {str(k).lower(): v for k, v in body.items()}.get("id")
            if isinstance(item_id, bool) or not isinstance(item_id, int):
                raise AutotaskError(f"An id is required to update an entity of type {e.name}.")
            rec = self._data[e.name].get(item_id)
            if rec is None or (e.child_of and rec[e.child_of.parent_field] != parent_id):
                raise AutotaskError(f"Unable to find {e.name} with id {item_id}.")
            changes, udfs = self._changes(e, body, rec)
            if replace:
                self._null_omitted(e, changes)
            self._check_references(e, {k: v for k, v in changes.items() if v != rec[k]})
            self._rules(e, rec, changes)
            self._apply(e, rec, changes, udfs, resource_id)
            return item_id

    def _null_omitted(self, e: EntityDef, changes: dict[str, Any]) -> None:
        """PUT: every writable field the body leaves out becomes null (docs/autotask.md §3)."""
        keep = {e.child_of.parent_field} if e.child_of else set()
        for f in e.fields.values():
            if f.name == "id" or f.read_only or f.name in changes or f.name in keep or (e.name, f.name) in _IMMUTABLE:
                continue
            if f.required:
                raise AutotaskError(f"Field {f.name} on entity {e.name} is required.")
            changes[f.name] = None

    def api_delete(self, e: EntityDef, item_id: int, *, resource_id: int, parent_id: int | None = None) -> int:
        with self.lock:
            if not e.can_delete:
                raise method_not_allowed("DELETE")
            self._check_route(e, "DELETE", parent_id)
            rec = self._data[e.name].get(item_id)
            if rec is None or (e.child_of and rec[e.child_of.parent_field] != parent_id):
                raise AutotaskError(f"Unable to find {e.name} with id {item_id}.")
            del self._data[e.name][item_id]
            if e.name in wh_resources():
                self._delete_webhook_children(e, item_id)
            self._after_write(e, rec)
            self._fire(e, "Delete", rec, resource_id)
            return item_id

    # --- entity rules ------------------------------------------------------------------------------

    def _rules(self, e: EntityDef, current: Record | None, changes: dict[str, Any]) -> None:
        """Rules beyond field metadata (docs/autotask.md §9): immutable fields, PO item states, vendors."""
        if current is not None:
            for name, value in changes.items():
                if (e.name, name) in _IMMUTABLE and value != current[name]:
                    raise AutotaskError(f"The field {name} on entity {e.name} cannot be changed after create.")
        if e.name == "Contacts" and changes.get("isActive") not in (None, 0, 1):
            raise AutotaskError("Value of field isActive on entity Contacts must be 0 or 1.")
        if e.name == "PurchaseOrders" and current is None and self._data["Companies"]:
            vendor = self._data["Companies"].get(changes.get("vendorID"))
            if vendor is None or vendor["companyType"] != COMPANY_TYPE_VENDOR:
                raise AutotaskError("The vendorID of a purchase order must reference a Vendor company.")
        if e.name == "PurchaseOrderItems":
            order_id = current["orderID"] if current else changes.get("orderID")
            order = self._data["PurchaseOrders"].get(order_id)
            status = order["status"] if order else None
            if current is None and status != PO_NEW:
                raise AutotaskError("Purchase order items can only be added to a purchase order with status New.")
            if current is not None and status not in (PO_NEW, PO_SUBMITTED, PO_RECEIVED_PARTIAL):
                raise AutotaskError("Purchase order items can only be updated while the purchase order status is "
                                    "New, Submitted or Received Partial.")
        if e.name in wh_resources():
            for key in ("webhookUrl", "deactivationUrl"):
                url = changes.get(key)
                if url is not None and not str(url).lower().startswith(("https://", "http://")):
                    raise AutotaskError(f"The {key} of a webhook must be an absolute HTTPS URL.")
        if e.name.endswith("WebhookUdfFields") and "udfFieldID" in changes:
            target = wh_resources()[e.name.replace("UdfFields", "s")]
            if changes["udfFieldID"] not in {d["id"] for d in self._udf_defs[target]}:
                raise AutotaskError(f"Value {changes['udfFieldID']} of field udfFieldID is not a valid picklist value.")

    def _stamp(self, e: EntityDef, rec: Record, *, created: bool) -> None:
        now = format_datetime(self.clock.now())
        if created and e.created_field and rec[e.created_field] is None:
            rec[e.created_field] = now
        if e.modified_field:
            rec[e.modified_field] = now

    def _on_create(self, e: EntityDef, rec: Record, resource_id: int) -> None:
        if e.name in wh_resources():
            rec.update(webhookGUID=str(uuid.uuid4()), ownerResourceID=resource_id, isReady=False)
            for key in ("isSubscribedToCreateEvents", "isSubscribedToUpdateEvents", "isSubscribedToDeleteEvents"):
                rec[key] = bool(rec[key])
        if e.name in ("PurchaseOrders", "Products"):
            rec["creatorResourceID" if e.name == "PurchaseOrders" else "createdByResourceID"] = resource_id
        self._po_status_stamps(e, None, rec)

    def _po_status_stamps(self, e: EntityDef, before: int | None, rec: Record) -> None:
        if e.name != "PurchaseOrders" or rec["status"] == before:
            return
        now = format_datetime(self.clock.now())
        if rec["status"] == PO_SUBMITTED and rec["submitDateTime"] is None:
            rec["submitDateTime"] = now
        if rec["status"] == PO_CANCEL:
            rec["cancelDateTime"] = now

    def _after_write(self, e: EntityDef, rec: Record) -> None:
        if e.child_of is not None and e.child_of.parent in wh_resources():
            self._refresh_webhook_readiness()

    def _refresh_webhook_readiness(self) -> None:
        for hooks_name in wh_resources():
            prefix = hooks_name[: -len("Webhooks")]
            subscribed = {r["webhookID"] for child in ("WebhookFields", "WebhookUdfFields")
                          for r in self._data[prefix + child].values() if r["isSubscribedField"]}
            for hook in self._data[hooks_name].values():
                hook["isReady"] = hook["id"] in subscribed

    def _delete_webhook_children(self, e: EntityDef, hook_id: int) -> None:
        prefix = e.name[: -len("Webhooks")]
        for child in ("WebhookFields", "WebhookUdfFields", "WebhookExcludedResources"):
            table = self._data[prefix + child]
            for child_id in [i for i, r in table.items() if r["webhookID"] == hook_id]:
                del table[child_id]

    def _apply(self, e: EntityDef, rec: Record, changes: Mapping[str, Any], udfs: Mapping[str, Any],
               person_id: int) -> None:
        changed = {k for k, v in changes.items() if rec[k] != v}
        changed_udfs = {k for k, v in udfs.items() if rec[UDF_KEY].get(k) != v}
        before_status = rec.get("status")
        rec.update(changes)
        rec[UDF_KEY].update(udfs)
        self._po_status_stamps(e, before_status, rec)
        if changed or changed_udfs:
            self._stamp(e, rec, created=False)
        self._after_write(e, rec)
        if changed or changed_udfs:
            self._fire(e, "Update", rec, person_id, changed=changed, changed_udfs=changed_udfs)

    # --- what people and Autotask's billing do -----------------------------------------------------

    def touch(self, entity: str, id: int, changes: Mapping[str, Any], *,
              person_id: int | None = None) -> None:
        """A person edits a record in the Autotask UI: read-only rules do not apply, the modified timestamp
        moves, subscribed webhooks fire. Raises KeyError for an unknown record, ValueError for a bad change."""
        e = _resolve(entity)
        with self.lock:
            rec = self._data[e.name].get(id)
            if rec is None:
                raise KeyError(f"{e.name} {id} does not exist")
            fields: dict[str, Any] = {}
            udfs: dict[str, Any] = {}
            try:
                for key, value in changes.items():
                    if key.lower() == UDF_KEY.lower():
                        udfs.update(self._udf_items(e, value))
                        continue
                    f = e.lookup(key)
                    if f is None or f.name == "id":
                        raise ValueError(f"{e.name}: unknown or unchangeable field {key!r}")
                    fields[f.name] = self._coerce(e, f, value)
                self._rules(e, rec, {k: v for k, v in fields.items() if (e.name, k) not in _IMMUTABLE})
            except AutotaskError as exc:
                raise ValueError(str(exc)) from None
            self._apply(e, rec, fields, udfs, UI_RESOURCE_ID if person_id is None else person_id)

    def create(self, entity: str, record: Mapping[str, Any], *, person_id: int | None = None) -> int:
        """Add a record as Autotask itself would (billing posting an invoice, a person adding a company).
        An invoice may carry `billingItems`; missing line and invoice totals are computed."""
        return self.create_with_items(entity, record, person_id=person_id)[0]

    def create_with_items(self, entity: str, record: Mapping[str, Any], *,
                          person_id: int | None = None) -> tuple[int, list[int]]:
        e = _resolve(entity)
        raw = dict(record)
        lines = (raw.pop("billingItems", None) or []) if e.name == "Invoices" else []
        with self.lock:
            rec = self._ingest(e, raw)
            self._stamp(e, rec, created=True)
            items_def = ENTITIES["BillingItems"]
            line_recs = []
            for line in lines:
                line_rec = self._ingest(items_def, {"invoiceID": rec["id"], "companyID": rec["companyID"], **line})
                _complete_line(line_rec)
                self._store_new(items_def, line_rec)
                line_recs.append(line_rec)
            if e.name == "Invoices" and line_recs:
                if rec["invoiceTotal"] is None:
                    rec["invoiceTotal"] = _money(sum((to_decimal(x["totalAmount"]) or Decimal(0)
                                                      for x in line_recs), Decimal(0)))
                if rec["totalTaxValue"] is None:
                    rec["totalTaxValue"] = _money(sum((to_decimal(x["taxDollars"]) or Decimal(0)
                                                       for x in line_recs), Decimal(0)))
            self._store_new(e, rec)
            self._after_write(e, rec)
            self._fire(e, "Create", rec, UI_RESOURCE_ID if person_id is None else person_id)
            return int(rec["id"]), [int(x["id"]) for x in line_recs]

    # --- credentials and limits --------------------------------------------------------------------

    def zone_information(self, user: str | None, base_url: str) -> dict[str, Any]:
        with self.lock:
            if not user or user.lower() not in self._users:
                raise AutotaskError("Zone information could not be determined")
            return {"zoneName": self.zone["zoneName"], "url": f"{base_url}/atservicesrest/",
                    "webUrl": f"{base_url}/", "ci": self.zone["ci"]}

    def authenticate(self, headers: Mapping[str, str]) -> int:
        """The API user's resource id, or the error Autotask gives: an unknown user or integration code is
        a 500, a known user with the wrong secret a 401 (docs/autotask.md §7 and apigrate/autotask-restapi#19)."""
        with self.lock:
            user = self._users.get((headers.get("username") or "").lower())
            if user is None:
                raise AutotaskError("UserName is invalid or is not an API user.")
            if headers.get("secret") != user["secret"]:
                raise AutotaskError("Authorization has been denied for this request.", status=401)
            if headers.get("apiintegrationcode") not in self._codes:
                raise AutotaskError("IntegrationCode is invalid.")
            return int(user["resource_id"])

    def inflight_enter(self, code: str, endpoint: str) -> int:
        with self._inflight_lock:
            self._inflight[(code, endpoint)] += 1
            return self._inflight[(code, endpoint)]

    def inflight_exit(self, code: str, endpoint: str) -> None:
        with self._inflight_lock:
            self._inflight[(code, endpoint)] -= 1
            if self._inflight[(code, endpoint)] <= 0:
                del self._inflight[(code, endpoint)]

    def inflight(self, code: str | None = None, endpoint: str | None = None) -> int:
        with self._inflight_lock:
            return sum(n for (c, ep), n in self._inflight.items()
                       if code in (None, c) and (endpoint is None or ep.lower() == endpoint.lower()))

    def _prune(self, now: float) -> None:
        while self._requests and self._requests[0] <= now - HOUR:
            self._requests.popleft()

    def _background(self, now: float) -> int:
        """Other integrations' requests in the rolling hour: `background_rate` an hour, evenly, since it was set."""
        if self._background_rate <= 0:
            return 0
        span = max(0.0, min(HOUR, now - self._background_since))
        return int(self._background_rate * span / HOUR)

    def _count(self, now: float) -> int:
        self._prune(now)
        return len(self._requests) + self._background(now)

    def admit(self, endpoint: str, inflight: int) -> None:
        """Count one request against the hour; reject it past the hourly or the thread threshold.

        The hourly threshold is per database, shared by every integration of the MSP (Autotask: "a limit of
        10,000 on the number of external requests allowed per hour between an individual database and the
        API", SOAP_Thresholds_Limits.htm; "this limit applies to your entire Autotask instance ... RMM tools,
        quoting tools, custom scripts all eat from the same pie", kb.clouddepot.com/knowledge/
        understanding-autotask-api-limits): the count includes the background traffic of other integrations.
        """
        with self.lock:
            now = self.clock.time()
            count = self._count(now)
            if count >= self.hourly_limit:
                self.refused_hourly += 1
                retry = max(1, math.ceil(self._requests[0] + HOUR - now)) if self._requests else 60
                raise AutotaskError(
                    f"Request Threshold Exceeded: this database has made more than {self.hourly_limit} API "
                    "requests in the last 60 minutes; API access is blocked until the request count falls "
                    "below the threshold.", status=429, headers={"Retry-After": str(retry)})
            self._requests.append(now)
            self.peak_count = max(self.peak_count, count + 1)
            if inflight > self.thread_limit:
                raise AutotaskError(
                    f"Itgenatr005: Thread Threshold Exceeded. The Autotask API thread threshold of "
                    f"{self.thread_limit} threads has been exceeded for the {endpoint} endpoint.", status=429)

    def threshold_information(self) -> dict[str, Any]:
        """`GET /v1.0/ThresholdInformation` → ThresholdStatusResultModel: the database's threshold, the timeframe
        in minutes and the requests counted in it, every integration's (the REST swagger's model, as generated
        in panoramicdata/AutoTask.Psa.Api `AutoTask.Psa.Api/Interfaces/ThresholdApiIntegrationApi.cs` and
        `Data/ThresholdStatusResultModel.cs`; api-evangelist/kaseya
        `openapi/kaseya-thresholdapiintegration-api-openapi.yml`: externalRequestThreshold,
        requestThresholdTimeframe, currentTimeframeRequestCount, all int32; Cloud Depot's log of it reads
        "124-10000-60", a 60-minute timeframe)."""
        with self.lock:
            return {"externalRequestThreshold": self.hourly_limit, "requestThresholdTimeframe": 60,
                    "currentTimeframeRequestCount": self._count(self.clock.time())}

    def other_integrations(self, requests_per_hour: float | None = None) -> dict[str, Any]:
        """Set (or read) the other integrations' steady traffic on this database, in requests an hour.

        They are taken to have run at that rate for the past hour already (a steady state: the rolling hour is
        full of their requests from the moment the rate is set).
        """
        with self.lock:
            if requests_per_hour is not None:
                if requests_per_hour < 0:
                    raise ValueError("a request rate cannot be negative")
                self._background_rate = float(requests_per_hour)
                self._background_since = self.clock.time() - (HOUR if requests_per_hour else 0)
            return {"requests_per_hour": self._background_rate, "refused_hourly": self.refused_hourly,
                    "peak_count": self.peak_count, "peak_share": round(self.peak_count / self.hourly_limit, 4)}

    def set_limits(self, *, thread_limit: int | None = None, hourly_limit: int | None = None,
                   reset_counts: bool = False) -> dict[str, Any]:
        with self.lock:
            if thread_limit is not None:
                self.thread_limit = int(thread_limit)
            if hourly_limit is not None:
                self.hourly_limit = int(hourly_limit)
            if reset_counts:
                self._requests.clear()
                self.refused_hourly, self.peak_count = 0, 0
            return {"thread_limit": self.thread_limit, "hourly_limit": self.hourly_limit,
                    **self.threshold_information()}

    # --- webhooks ----------------------------------------------------------------------------------

    def _fire(self, e: EntityDef, action: str, rec: Record, person_id: int, *,
              changed: set[str] | None = None, changed_udfs: set[str] | None = None) -> None:
        if e.webhook_entity is None:
            return
        prefix = e.webhook_entity
        for hook_id in sorted(self._data[f"{prefix}Webhooks"]):
            hook = self._data[f"{prefix}Webhooks"][hook_id]
            if not (hook["isActive"] and hook["isReady"] and hook[f"isSubscribedTo{action}Events"]):
                continue
            if any(r["webhookID"] == hook_id and r["resourceID"] == person_id
                   for r in self._data[f"{prefix}WebhookExcludedResources"].values()):
                continue
            fields = self._payload_fields(e, hook_id, action, rec, changed=changed or set(),
                                          changed_udfs=changed_udfs or set())
            if fields is None:
                continue
            self._sequence[(f"{prefix}Webhooks", hook_id)] += 1
            # Guid is the webhook's own GUID, the same on every event it sends: NangoHQ/nango routes deliveries
            # to connections on it (packages/server/lib/webhook/autotask-webhook-routing.ts; "Each Autotask
            # webhook has a unique Guid", nango.dev/docs/api-integrations/autotask/webhooks).
            payload = {"Action": action, "Guid": hook["webhookGUID"], "EntityType": prefix, "Id": rec["id"],
                       "Fields": fields, "EventTime": format_datetime(self.clock.now()),
                       "SequenceNumber": self._sequence[(f"{prefix}Webhooks", hook_id)], "PersonID": person_id}
            self.webhooks.pending.append(wh.PendingEvent(
                webhook_entity=f"{prefix}Webhooks", webhook_id=hook_id, url=hook["webhookUrl"],
                secret=hook["secretKey"], body=wh.encode(payload), guid=payload["Guid"], action=action,
                entity_id=rec["id"]))

    def _payload_fields(self, e: EntityDef, hook_id: int, action: str, rec: Record, *, changed: set[str],
                        changed_udfs: set[str]) -> dict[str, Any] | None:
        """The payload's Fields, or None when an update touches no subscribed field."""
        prefix = e.webhook_entity
        names = {webhook_field_id(e, f): f for f in e.fields}
        udf_names = {d["id"]: d["name"] for d in self._udf_defs[e.name]}
        subs = [(names.get(r["fieldID"]), r) for r in self._data[f"{prefix}WebhookFields"].values()
                if r["webhookID"] == hook_id]
        udf_subs = [(udf_names.get(r["udfFieldID"]), r) for r in self._data[f"{prefix}WebhookUdfFields"].values()
                    if r["webhookID"] == hook_id]
        subscribed = {n for n, r in subs if n and r["isSubscribedField"]}
        always = {n for n, r in subs if n and r["isDisplayAlwaysField"]}
        udf_subscribed = {n for n, r in udf_subs if n and r["isSubscribedField"]}
        udf_always = {n for n, r in udf_subs if n and r["isDisplayAlwaysField"]}
        if action == "Update":
            hit, udf_hit = changed & subscribed, changed_udfs & udf_subscribed
            if not hit and not udf_hit:
                return None
            chosen, udf_chosen = hit | always, udf_hit | udf_always
        elif action == "Create":
            chosen, udf_chosen = subscribed | always, udf_subscribed | udf_always
        else:
            chosen, udf_chosen = always, udf_always
        fields = {wh.pascal(name): rec[name] for name in e.fields if name in chosen}
        fields.update({name: rec[UDF_KEY].get(name) for name in rec[UDF_KEY] if name in udf_chosen})
        return fields

    def configure_webhooks(self, *, signing: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        with self.lock:
            if signing is not None:
                if signing not in wh.SIGNING_MODES:
                    raise ValueError(f"signing must be one of {wh.SIGNING_MODES}")
                self.webhooks.signing = signing
            if timeout is not None:
                self.webhooks.timeout = float(timeout)
            return {"signing": self.webhooks.signing, "timeout": self.webhooks.timeout}

    def webhook_status(self) -> dict[str, Any]:
        with self.lock:
            return {"signing": self.webhooks.signing,
                    "pending": [ev.report(False) for ev in self.webhooks.pending],
                    "delivered": list(self.webhooks.delivered), "errorLog": list(self.webhooks.error_log),
                    "webhooks": {name: self.state(name) for name in wh_resources()}}

    def deliver_webhooks(self) -> dict[str, Any]:
        """Deliver every queued event now (synchronously, outside the lock) and report each outcome."""
        with self.lock:
            events = list(self.webhooks.pending)
            signing, timeout = self.webhooks.signing, self.webhooks.timeout
        with httpx.Client(timeout=timeout) as client:
            for event in events:
                wh.post(client, event, signing)
        reports, deactivations = [], []
        with self.lock:
            for event in events:
                key = (event.webhook_entity, event.webhook_id)
                ok = event.last_error is None
                self.webhooks.pending.remove(event)
                if ok:
                    self._failures[key] = 0
                    self.webhooks.delivered.append(event.report(True))
                else:
                    self._failures[key] += 1
                    if event.attempts < wh.MAX_ATTEMPTS:
                        self.webhooks.pending.append(event)
                    else:
                        self.webhooks.error_log.append(event.report(False))
                    deactivation = self._maybe_deactivate(key)
                    if deactivation is not None:
                        deactivations.append(deactivation)
                reports.append(event.report(ok))
        with httpx.Client(timeout=timeout) as client:
            for event in deactivations:
                wh.post(client, event, signing)
                reports.append(event.report(event.last_error is None))
        return {"delivered": sum(r["delivered"] for r in reports),
                "failed": sum(not r["delivered"] for r in reports),
                "pending": len(self.webhooks.pending), "events": reports}

    def _maybe_deactivate(self, key: tuple[str, int]) -> wh.PendingEvent | None:
        hook = self._data[key[0]].get(key[1])
        if hook is None or not hook["isActive"] or self._failures[key] < wh.DEACTIVATE_AFTER:
            return None
        hook["isActive"] = False
        dropped = [ev for ev in self.webhooks.pending if (ev.webhook_entity, ev.webhook_id) == key]
        for ev in dropped:
            self.webhooks.pending.remove(ev)
            self.webhooks.error_log.append(ev.report(False))
        payload = {"Action": "Deactivated", "Guid": hook["webhookGUID"], "EntityType": key[0], "Id": key[1],
                   "Fields": {}, "EventTime": format_datetime(self.clock.now()), "SequenceNumber": 0,
                   "PersonID": 0}
        return wh.PendingEvent(webhook_entity=key[0], webhook_id=key[1], url=hook["deactivationUrl"],
                               secret=hook["secretKey"], body=wh.encode(payload), guid=payload["Guid"],
                               action="Deactivated", entity_id=key[1], deactivation=True)


def wh_resources() -> dict[str, str]:
    """Webhook resource → the entity it watches (CompanyWebhooks → Companies)."""
    return WEBHOOK_RESOURCES


def _complete_line(line: Record) -> None:
    """Fill a billing item's missing amounts: extendedPrice = quantity x rate and totalAmount = extendedPrice +
    taxDollars, to 4 places. A prepaid (block-hour) item is given its totalAmount 0 explicitly."""
    quantity, rate = to_decimal(line["quantity"]), to_decimal(line["rate"])
    if line["extendedPrice"] is None and quantity is not None and rate is not None:
        line["extendedPrice"] = _money(quantity * rate)
    if line["taxDollars"] is None:
        line["taxDollars"] = 0
    if line["totalAmount"] is None and line["extendedPrice"] is not None:
        line["totalAmount"] = _money((to_decimal(line["extendedPrice"]) or Decimal(0))
                                     + (to_decimal(line["taxDollars"]) or Decimal(0)))
