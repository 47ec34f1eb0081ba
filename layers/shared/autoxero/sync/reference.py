"""Reference data, read once per run from each system (and cached on the run)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from autoxero.autotask import models as at
from autoxero.autotask.query import Query, everything
from autoxero.mapping.billing import Charges, charges_to_read
from autoxero.mapping.common import content_hash
from autoxero.mapping.reference import AutotaskReference, XeroReference
from autoxero.state import CacheEntry
from autoxero.state.reference_cache import CachedPiece
from autoxero.xero import models as xm

if TYPE_CHECKING:
    from autoxero.autotask.client import AutotaskClient
    from autoxero.sync.run import FlowRun

PICKLISTS = (("Companies", "territoryID"), ("Companies", "classification"), ("Companies", "companyType"),
             ("PurchaseOrders", "status"))


def _all[E: at.Entity](client: AutotaskClient, entity: str, model: type[E]) -> dict[int, E]:
    return {record.id: record for record in client.query_models(entity, model, Query(everything()))}


def _picklists(client: AutotaskClient) -> dict[str, at.Picklist]:
    """The picklists mappings read labels from; a tenant whose field is not a picklist simply has no labels for
    it. A failed read is not "no picklist": it raises, so nothing half-read is cached."""
    found: dict[str, at.Picklist] = {}
    for entity, field in PICKLISTS:
        info = next((f for name, f in client.fields(entity).items() if name.lower() == field.lower()), None)
        if info is not None and info.isPickList:
            found[f"{entity}.{field}"] = info.picklist()
    return found


# Xero's lists a mapping may read, each read only when first needed: (the adapter's read, its model).
XERO_PIECES: dict[str, tuple[str, type[BaseModel]]] = {
    "accounts": ("accounts", xm.Account), "tax_rates": ("tax_rates", xm.TaxRate), "items": ("items", xm.Item),
    "tracking": ("tracking_categories", xm.TrackingCategory), "themes": ("branding_themes", xm.BrandingTheme),
    "currencies": ("currencies", xm.Currency), "organisation": ("organisation", xm.Organisation),
}


def settings_fingerprint(run: FlowRun) -> str:
    return content_hash(run.settings.model_dump(mode="json"))


def _stored_pieces(run: FlowRun) -> dict[str, CachedPiece]:
    """Every list the table holds, read in one BatchGetItem when a mapping first needs one: a run that needs
    any usually needs several (an invoice: accounts, tax rates, items, tracking, themes, organisation)."""
    stored = run.cache.get("xero_reference:stored")
    if not isinstance(stored, dict):
        def read() -> dict[str, CachedPiece]:
            return run.state.xero_reference.get_many(list(XERO_PIECES))

        stored = run.cache["xero_reference:stored"] = run.kept.get("xero-reference", read) if run.kept else read()
    return stored


def _xero_piece(run: FlowRun, piece: str) -> list[Any]:
    """One list from the table while it is fresh (6 h, same settings), else from Xero (then stored)."""
    operation, model = XERO_PIECES[piece]
    cache, settings = run.state.xero_reference, settings_fingerprint(run)
    stored = _stored_pieces(run).get(piece)
    if stored and stored.fresh(cache.now(), settings):
        def parse() -> list[Any]:
            return [model.model_validate(r) for r in json.loads(stored.document)]

        # The fingerprint names the content: a list kept under it is the stored list, however long ago it was parsed.
        return run.kept.get(f"xero-{piece}#{stored.fingerprint}", parse) if run.kept else parse()
    answer = getattr(run.xero, operation)()
    records = answer if isinstance(answer, list) else [answer]
    if not run.dry_run:
        _stored_pieces(run)[piece] = cache.put(
            piece, json.dumps([r.model_dump(mode="json") for r in records], sort_keys=True), settings)
    return records


def xero_reference(run: FlowRun) -> XeroReference:
    """Xero's reference data for this run: each list read lazily, from the table when it is fresh.

    Why 6 hours: a list changes only when a person edits Xero's settings. A change Xero would refuse (a code
    deleted or archived) is caught at once, because a refusal naming a code drops the cached list; a change
    made to match a new mapping arrives with `settings push`, which invalidates every list; what remains is a
    change Xero accepts silently (a new item whose code matches a SKU, a renamed branding theme, a new tax
    rate), picked up within the same working day. Reading the 4-7 lists every 6 hours while invoices flow costs
    at most 28 calls a day, 0.6 % of Xero's 5,000; a run with nothing to send reads none of them.
    """
    cached = run.cache.get("xero_reference")
    if isinstance(cached, XeroReference):
        return cached

    def source(piece: str) -> Callable[[], list[Any]]:
        return lambda: _xero_piece(run, piece)

    reference = XeroReference(accounts=source("accounts"), tax_rates=source("tax_rates"), items=source("items"),
                              tracking=source("tracking"), themes=source("themes"),
                              currencies=source("currencies"), organisation=lambda: xero_organisation(run))
    run.cache["xero_reference"] = reference
    return reference


def xero_organisation(run: FlowRun) -> xm.Organisation | None:
    """The organisation (name, short code, time zone, base currency), kept in the table like every list."""
    found = _xero_piece(run, "organisation")
    return found[0] if found else None


def xero_reference_versions(run: FlowRun, pieces: Iterable[str] = XERO_PIECES) -> dict[str, str]:
    """Which version of each list autoxero last read (stale or not; "" for none): what a held document was
    refused against. From the lists this run read from the table (one read for the run, however many documents
    are held), as they are after any this run refreshed or forgot; no Xero call."""
    stored = _stored_pieces(run)
    return {piece: stored[piece].fingerprint if piece in stored else "" for piece in sorted(pieces)}


def forget_xero_reference(run: FlowRun, pieces: set[str]) -> None:
    """Xero refused a code the cached list had: read those lists afresh next time."""
    if pieces and not run.dry_run:
        run.state.xero_reference.forget(pieces)
        stored = run.cache.get("xero_reference:stored")
        if isinstance(stored, dict):  # only what this run already read; reading the table to drop it is waste
            for piece in pieces:
                stored.pop(piece, None)


AUTOTASK_CACHE_SECONDS = 3600
_ENTITIES: dict[str, tuple[str, type[at.Entity]]] = {
    "countries": ("Countries", at.Country), "currencies": ("Currencies", at.Currency),
    "billing_codes": ("BillingCodes", at.BillingCode), "products": ("Products", at.Product),
    "services": ("Services", at.Service), "service_bundles": ("ServiceBundles", at.Service),
    "tax_categories": ("TaxCategories", at.TaxCategory), "tax_regions": ("TaxRegions", at.TaxRegion),
    "templates": ("InvoiceTemplates", at.InvoiceTemplate), "payment_terms": ("PaymentTerms", at.PaymentTerm),
}
_CONTACTS_ONLY = ("countries", "currencies")


def _read_autotask(client: AutotaskClient, names: tuple[str, ...]) -> AutotaskReference:
    parts: dict[str, Any] = {name: _all(client, *_ENTITIES[name]) for name in names}
    return AutotaskReference(picklists=_picklists(client), **parts)


def _to_document(reference: AutotaskReference, names: tuple[str, ...]) -> str:
    return json.dumps({"parts": {name: [r.model_dump(mode="json") for r in getattr(reference, name).values()]
                                 for name in names},
                       "picklists": {k: p.model_dump(mode="json") for k, p in reference.picklists.items()}})


def _from_document(text: str) -> AutotaskReference:
    document = json.loads(text)
    parts: dict[str, Any] = {name: {r["id"]: _ENTITIES[name][1].model_validate(r) for r in records}
                             for name, records in document["parts"].items()}
    picklists = {k: at.Picklist.model_validate(p) for k, p in document["picklists"].items()}
    return AutotaskReference(picklists=picklists, **parts)


def autotask_reference(run: FlowRun, *, for_invoices: bool = True, fresh: bool = False) -> AutotaskReference:
    """Autotask's reference data: from the run, else from the table (an hour old at most), else read.

    It changes rarely and costs about ten calls, so every run of every flow need not pay for it; a record
    that names a code the cached copy lacks makes the caller ask for a fresh read (`ensure_known`).
    """
    key = f"autotask_reference:{for_invoices}"
    cached = run.cache.get(key)
    if isinstance(cached, AutotaskReference) and not fresh:
        return cached
    names = tuple(_ENTITIES) if for_invoices else _CONTACTS_ONLY
    name = f"autotask-reference-{'invoices' if for_invoices else 'contacts'}"

    def load() -> AutotaskReference:
        cached_entry = None if fresh else run.state.cache.get(name)
        if cached_entry and cached_entry.expires_at > time.time():
            return _from_document(cached_entry.document)
        read = _read_autotask(run.autotask, names)
        if not run.dry_run:
            run.state.cache.put(name, CacheEntry(_to_document(read, names), time.time() + AUTOTASK_CACHE_SECONDS))
        return read

    if run.kept is None:
        reference = load()
    elif fresh:
        reference = load()
        run.kept.put(name, reference)
    else:
        reference = run.kept.get(name, load)
    run.cache[key] = reference
    return reference


def ensure_known(run: FlowRun, reference: AutotaskReference, **ids: set[int]) -> AutotaskReference:
    """Re-read the reference data once if a record names an id the (cached) copy does not have."""
    unknown = any(wanted - set(getattr(reference, name)) for name, wanted in ids.items())
    if unknown and not run.cache.get("autotask_reference:refreshed"):
        run.cache["autotask_reference:refreshed"] = True
        return autotask_reference(run, fresh=True)
    return reference


def read_charges(run: FlowRun, items: list[at.BillingItem]) -> Charges:
    """The charges these billing items bill (their products' route): one `in` query per charge entity and
    500 ids, never one call per line."""
    return Charges({entity: {c.id: c for c in run.autotask.query_in(entity, at.Charge, "id", sorted(ids))}
                    for entity, ids in charges_to_read(items).items()})
