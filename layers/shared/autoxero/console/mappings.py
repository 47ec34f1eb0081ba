"""The mappings page: the settings as forms whose pickers are filled from live Xero and Autotask reference data;
a proposed change is validated, shown as a diff with its effect on recent invoices, then pushed as a new version
(who, when) — or an old version is rolled back the same way. "Suggest" proposes a change the same way too."""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from autoxero.autotask import models as at
from autoxero.autotask.query import Query, gte
from autoxero.mapping.common import Unmappable
from autoxero.mapping.invoices import DocumentPlan, map_invoice
from autoxero.settings import AccountSource, InvoiceStatus, Numbering, SyncSettings, TaxMode, TrackingSource

if TYPE_CHECKING:
    from autoxero.sync.run import FlowRun

RECENT_INVOICES = 30
KEEP = ""  # a picker's "no mapping here" choice


@dataclass(frozen=True, slots=True)
class Pickers:
    accounts: list[tuple[str, str]]  # (code, "code - name (type)")
    revenue_accounts: list[tuple[str, str]]
    expense_accounts: list[tuple[str, str]]
    tax_rates: list[tuple[str, str]]
    billing_codes: list[at.BillingCode]
    tax_keys: list[str]  # "region|category"
    choices: dict[str, list[tuple[str, str]]]
    items: list[tuple[str, str]] = field(default_factory=list)  # (code, "code - name")
    themes: list[tuple[str, str]] = field(default_factory=list)  # (name, name): settings name a theme
    templates: list[at.InvoiceTemplate] = field(default_factory=list)  # Autotask invoice templates
    tracking_categories: list[str] = field(default_factory=list)  # Xero's active categories


def pickers(run: FlowRun) -> Pickers:
    from autoxero.sync.reference import autotask_reference, xero_reference

    xero = xero_reference(run)
    ref = autotask_reference(run, fresh=False)

    def label(code: str) -> str:
        account = xero.accounts[code]
        return f"{code} - {account.Name} ({(account.Type or '').lower()})"

    codes = sorted(xero.accounts)
    revenue = [c for c in codes if (xero.accounts[c].Type or "") in ("REVENUE", "SALES", "OTHERINCOME")]
    expense = [c for c in codes if (xero.accounts[c].Type or "") in ("EXPENSE", "DIRECTCOSTS", "OVERHEADS")]
    regions = sorted(r.name for r in ref.tax_regions.values() if r.isActive)
    categories = sorted(c.name for c in ref.tax_categories.values() if c.isActive)
    return Pickers(
        accounts=[(c, label(c)) for c in codes], revenue_accounts=[(c, label(c)) for c in revenue],
        expense_accounts=[(c, label(c)) for c in expense],
        tax_rates=sorted(((t, f"{t} - {r.Name}") for t, r in xero.tax_rates.items()), key=lambda p: p[1]),
        billing_codes=sorted((b for b in ref.billing_codes.values() if b.isActive), key=lambda b: b.name.casefold()),
        tax_keys=[f"{r}|{c}" for r in regions for c in categories],
        choices={**{name: [(v.value, v.value.replace("_", " ")) for v in kind] for name, kind in (
            ("status", InvoiceStatus), ("numbering", Numbering), ("account_source", AccountSource),
            ("tax_mode", TaxMode), ("tracking_source", TrackingSource))},
            "po_target": [("bill", "bill (accounts payable)"), ("purchase_order", "purchase order")]},
        items=sorted((code, f"{code} - {name}") for code, name in xero.item_names.items()),
        themes=sorted((name, name) for name in xero.branding_themes),
        templates=sorted(ref.templates.values(), key=lambda t: t.name.casefold()),
        tracking_categories=sorted(xero.tracking))


def from_form(current: SyncSettings, fields: dict[str, str]) -> dict[str, Any]:
    """The settings document the form describes: the current one with the form's fields applied."""
    document = current.model_dump(mode="json")
    invoices, orders = document["invoices"], document["purchase_orders"]
    for name in ("status", "numbering", "number_prefix", "account_source", "default_account_code",
                 "rounding_account_code"):
        if name in fields:
            invoices[name] = fields[name].strip()
    if "tax_mode" in fields:
        invoices["tax"]["mode"] = fields["tax_mode"]
    if "exempt_tax_type" in fields:
        invoices["tax"]["exempt_tax_type"] = fields["exempt_tax_type"]
    if "start_date" in fields and fields["start_date"].strip():
        invoices["start_date"] = fields["start_date"].strip()
    if "item_by_product_sku" in fields:
        invoices["item_by_product_sku"] = fields["item_by_product_sku"] == "true"
    for name, key in (("po_default_account_code", "default_account_code"), ("po_target", "target"),
                      ("po_status", "status"), ("po_freight_account_code", "freight_account_code")):
        if name in fields:
            orders[key] = fields[name].strip()
    maps = {prefix: dict(where[key]) for prefix, where, key in _form_maps(invoices)}
    for name, value in fields.items():
        prefix, _, key = name.partition(".")
        if prefix in maps and key:
            _set_or_drop(maps[prefix], key, value)
    for prefix, where, key in _form_maps(invoices):
        where[key] = maps[prefix]
    invoices["tracking"] = _tracking(invoices["tracking"], fields)
    return document


def _form_maps(invoices: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """Each form field prefix ("prefix.key") and the mapping in the document it edits."""
    return [("account_by_billing_code", invoices, "account_by_billing_code"),
            ("item_by_billing_code", invoices, "item_by_billing_code"),
            ("branding_by_template", invoices, "branding_by_template"),
            ("tax_map", invoices["tax"], "by_region_and_category")]


def _tracking(rules: list[dict[str, Any]], fields: dict[str, str]) -> list[dict[str, Any]]:
    """The tracking rules, with each category the form shows set to its source (or dropped when none): a
    rule's option names, which the form does not edit, are kept."""
    shown = [name.split(".", 1)[1].rsplit(".", 1)[0] for name in fields
             if name.startswith("tracking.") and name.endswith(".source")]
    kept = {rule["category"]: rule for rule in rules}
    for category in shown:
        source = fields[f"tracking.{category}.source"].strip()
        if not source:
            kept.pop(category, None)
            continue
        rule = {**kept.get(category, {"category": category, "options": {}}), "source": source}
        rule["udf_name"] = fields.get(f"tracking.{category}.udf_name", "").strip() or None
        kept[category] = rule
    return list(kept.values())


def _set_or_drop(mapping: dict[str, str], key: str, value: str) -> None:
    if value.strip() == KEEP:
        mapping.pop(key, None)
    else:
        mapping[key] = value.strip()


@dataclass
class Review:
    """A proposed settings document, checked: errors (it cannot be pushed), the diff and the effect."""

    document: dict[str, Any]
    base_version: int
    errors: list[str] = field(default_factory=list)
    diff: list[str] = field(default_factory=list)
    effect: list[dict[str, Any]] = field(default_factory=list)
    held: int = 0
    released: int = 0
    changed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def pushable(self) -> bool:
        return not self.errors and bool(self.diff)

    @property
    def document_json(self) -> str:
        return json.dumps(self.document, sort_keys=True)


def _yaml(settings: SyncSettings) -> list[str]:
    """A stable, readable rendering for the diff (one `path: value` line per leaf)."""
    lines: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key in sorted(value):
                walk(f"{prefix}.{key}" if prefix else str(key), value[key])
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for index, element in enumerate(value):
                walk(f"{prefix}[{index}]", element)
        else:
            lines.append(f"{prefix}: {json.dumps(value, sort_keys=True)}")

    walk("", settings.model_dump(mode="json"))
    return lines


def review(run: FlowRun, current: SyncSettings, version: int, document: dict[str, Any]) -> Review:
    result = Review(document, version)
    try:
        proposed = SyncSettings.model_validate(document)
    except ValidationError as err:
        result.errors = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()]
        return result
    result.diff = [line for line in difflib.unified_diff(_yaml(current), _yaml(proposed), f"version {version}",
                                                         "proposed", lineterm="", n=0)
                   if not line.startswith("@@")]
    _effect(run, current, proposed, result)
    return result


def _recent(run: FlowRun) -> list[at.Invoice]:
    since = dt.datetime.combine(run.settings.invoices.start_date or run.now().date() - dt.timedelta(days=90),
                                dt.time(), dt.UTC)
    invoices = list(itertools.islice(run.autotask.query_models(
        "Invoices", at.Invoice, Query([gte("invoiceDateTime", since)])), 500))
    invoices.sort(key=lambda i: (i.invoiceDateTime, i.id), reverse=True)
    return invoices[:RECENT_INVOICES]


def _effect(run: FlowRun, current: SyncSettings, proposed: SyncSettings, result: Review) -> None:
    """Map the recent invoices under both documents and say what would change."""
    from autoxero.sync.invoices import invoice_reference
    from autoxero.sync.reference import xero_reference

    invoices = _recent(run)
    if not invoices:
        result.notes.append("There are no recent invoices to try the change on.")
        return
    items: dict[int, list[at.BillingItem]] = {}
    for item in run.autotask.query_in("BillingItems", at.BillingItem, "invoiceID", [i.id for i in invoices]):
        items.setdefault(item.invoiceID or 0, []).append(item)
    companies = {c.id: c for c in run.autotask.query_in("Companies", at.Company, "id",
                                                        sorted({i.companyID for i in invoices}))}
    charges, ref = invoice_reference(run, invoices, [i for lines in items.values() for i in lines])
    xero = xero_reference(run)

    def plan(invoice: at.Invoice, settings: SyncSettings) -> DocumentPlan | str:
        company = companies.get(invoice.companyID)
        if company is None or not items.get(invoice.id):
            return "nothing to map"
        try:
            return map_invoice(invoice, items[invoice.id], company, "contact", ref=ref, xero=xero,
                               settings=settings.invoices, charges=charges)
        except Unmappable as err:
            return err.problem.message

    for invoice in invoices:
        before, after = plan(invoice, current), plan(invoice, proposed)
        if isinstance(before, DocumentPlan) and isinstance(after, DocumentPlan):
            if before.payload["LineItems"] == after.payload["LineItems"] and before.payload.get(
                    "Status") == after.payload.get("Status"):
                continue
            result.changed += 1
            what = "lines change: " + "; ".join(_line_changes(before, after))
        elif isinstance(after, str) and isinstance(before, DocumentPlan):
            result.held += 1
            what = f"would be held: {after}"
        elif isinstance(before, str) and isinstance(after, DocumentPlan):
            result.released += 1
            what = f"would now go through (was: {before})"
        else:
            continue
        result.effect.append({"number": invoice.invoiceNumber or str(invoice.id), "id": invoice.id,
                              "company": companies[invoice.companyID].companyName
                              if invoice.companyID in companies else "", "what": what})
    if result.held:
        result.errors.append(f"{result.held} of the last {len(invoices)} invoices would be held with this change "
                             "(see below): fix the mapping first.")


def _line_changes(before: DocumentPlan, after: DocumentPlan) -> list[str]:
    changes = []
    for old, new in zip(before.lines, after.lines, strict=False):
        if old.account_code != new.account_code:
            changes.append(f"'{old.description[:40]}' account {old.account_code} → {new.account_code}")
        if old.tax_type != new.tax_type:
            changes.append(f"'{old.description[:40]}' tax {old.tax_type or 'default'} → {new.tax_type or 'default'}")
    if len(before.lines) != len(after.lines):
        changes.append(f"{len(before.lines)} lines → {len(after.lines)}")
    return changes[:4] or ["status or other details"]
