"""The chaos check's verdict, read only from the simulators' own state.

Nothing here asks autoxero what it did: not its id map, not its attention list, not its ledger. Every
Xero document (sales invoices, credit notes, bills) and contact comes from the Xero simulator; every
invoice, company and purchase order from the Autotask simulator. The harness supplies only what it
planted: every number it gave each Autotask invoice (renumbering included) and the invoices it made
impossible to sync (a number Xero already has), with why.

A document belongs to an Autotask invoice by the number autoxero must put on it: InvoiceNumber /
CreditNoteNumber when Autotask numbers, the first word of Reference when Xero does. Duplicates are
counted per Autotask invoice across both document types.

The one exception to "never ask autoxero": an invoice the harness made impossible may be missing from
Xero only if autoxero told a person (an attention item for that record). Nothing else excuses a missing
document. `pending` (our own id map) is reported as a separate, internal check and never counts as
catching a mutant.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.server import Sandbox

TRUTH_CHECKS = ("duplicates", "missing", "unknown", "totals", "contact", "stamped", "paid_date", "bills")
INTERNAL_CHECKS = ("pending",)
DEAD = ("DELETED", "VOIDED")
CENT = Decimal("0.01")


@dataclass
class Planted:
    """What the harness did to the tenant, known without asking the product."""

    numbering: str  # "autotask" or "xero"
    numbers: dict[str, int] = field(default_factory=dict)  # every number an Autotask invoice has had -> its id
    impossible: dict[int, str] = field(default_factory=dict)  # Autotask invoice id -> why it cannot sync
    preexisting: set[str] = field(default_factory=set)  # Xero documents that were there before autoxero

    def renumber(self, invoice_id: int, number: str) -> None:
        self.numbers[number] = invoice_id


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def _cents(value: Any) -> Decimal:
    return _d(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _identity(document: dict[str, Any], number_field: str, numbering: str) -> str:
    if numbering == "xero":
        words = str(document.get("Reference") or "").split()
        return words[0] if words else ""
    return str(document.get(number_field) or "")


def check(sandbox: Sandbox, planted: Planted, told: set[str]) -> dict[str, list[str]]:
    """Failures per check. `told`: Autotask invoice ids with an attention item (used only to excuse what the
    harness made impossible)."""
    xero, autotask = sandbox.xero, sandbox.autotask
    failures: dict[str, list[str]] = {c: [] for c in TRUTH_CHECKS}
    contacts = {c["ContactID"]: c for c in xero.state("Contacts")}
    companies = {c["id"]: c for c in autotask.state("Companies")}
    invoices = {i["id"]: i for i in autotask.state("Invoices")}

    documents: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entity, number_field, kind in (("Invoices", "InvoiceNumber", "invoice"),
                                        ("CreditNotes", "CreditNoteNumber", "credit note")):
        for document in xero.state(entity):
            if document.get("Status") in DEAD or document.get("Type") == "ACCPAY":
                continue
            if document.get(f"{entity[:-1]}ID") in planted.preexisting:
                continue
            key = _identity(document, number_field, planted.numbering)
            owner = planted.numbers.get(key)
            if owner is None:
                failures["unknown"].append(f"{kind} {document.get(number_field)} ({key!r}) is no Autotask invoice's")
                continue
            documents[owner].append({**document, "_kind": kind})

    for invoice_id, invoice in invoices.items():
        found = documents.get(invoice_id, [])
        number = invoice.get("invoiceNumber")
        stamped = bool(invoice.get("webServiceDate"))
        if len(found) > 1:
            names = [f"{d['_kind']} {d.get('InvoiceNumber') or d.get('CreditNoteNumber')}" for d in found]
            failures["duplicates"].append(f"{number} x{len(found)}: {', '.join(names)}")
        if not found:
            if invoice.get("isVoided"):
                continue
            why = planted.impossible.get(invoice_id)
            if why is None:
                failures["missing"].append(f"{number}: not in Xero")
            elif str(invoice_id) not in told:
                failures["missing"].append(f"{number}: not in Xero ({why}) and nobody was told")
            if stamped:
                failures["stamped"].append(f"{number}: stamped in Autotask but not in Xero")
            continue
        _one_document(invoice, found[0], companies, contacts, numbering=planted.numbering, failures=failures)
    failures["bills"] = _bills(sandbox, contacts)
    return failures


def _one_document(invoice: dict[str, Any], document: dict[str, Any], companies: dict[int, dict[str, Any]],
                  contacts: dict[str, dict[str, Any]], *, numbering: str, failures: dict[str, list[str]]) -> None:
    """The one document of an Autotask invoice: its total, type, contact, the stamp and the paid date."""
    number, stamped = invoice.get("invoiceNumber"), bool(invoice.get("webServiceDate"))
    total = _cents(abs(_d(invoice["invoiceTotal"])))
    if _d(document["Total"]) != total:
        failures["totals"].append(f"{number}: Xero {document['Total']} != Autotask {invoice['invoiceTotal']}")
    negative = _d(invoice["invoiceTotal"]) < 0
    if negative != (document["_kind"] == "credit note"):
        failures["totals"].append(f"{number}: a {'negative' if negative else 'positive'} invoice became a "
                                  f"{document['_kind']}")
    company = companies.get(invoice.get("companyID"), {})
    name = contacts.get((document.get("Contact") or {}).get("ContactID"), {}).get("Name")
    if name != company.get("companyName"):
        failures["contact"].append(f"{number}: Xero contact {name!r}, Autotask company "
                                   f"{company.get('companyName')!r}")
    if not stamped:
        failures["stamped"].append(f"{number}: in Xero but not stamped in Autotask")
    elif numbering == "xero" and document["_kind"] == "invoice" and number != document.get("InvoiceNumber"):
        failures["stamped"].append(f"{number}: Xero numbered it {document.get('InvoiceNumber')}, not written back")
    _paid_date(invoice, document, failures["paid_date"])


def _day(value: Any) -> str | None:
    """A Xero date as the API writes it in JSON (`/Date(1731456000000+0000)/`, milliseconds since the epoch,
    UTC) or ISO, as YYYY-MM-DD."""
    text = str(value or "")
    if match := re.match(r"/Date\((-?\d+)", text):
        return dt.datetime.fromtimestamp(int(match.group(1)) / 1000, dt.UTC).date().isoformat()
    return text[:10] or None


def _paid_date(invoice: dict[str, Any], document: dict[str, Any], failures: list[str]) -> None:
    number, paid_on = invoice.get("invoiceNumber"), str(invoice.get("paidDate") or "")[:10] or None
    paid_in_xero = document["_kind"] == "invoice" and document.get("Status") == "PAID"
    if not paid_in_xero:
        if paid_on:
            failures.append(f"{number}: Autotask paidDate {paid_on}, Xero {document.get('Status')}")
        return
    fully = _day(document.get("FullyPaidOnDate"))
    if paid_on != fully:
        failures.append(f"{number}: paid in Xero on {fully}, Autotask paidDate {paid_on}")


def _bills(sandbox: Sandbox, contacts: dict[str, dict[str, Any]]) -> list[str]:
    """Every submitted purchase order has exactly one live bill, numbered as the order, for its vendor."""
    failures: list[str] = []
    companies = {c["id"]: c for c in sandbox.autotask.state("Companies")}
    bills: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for document in sandbox.xero.state("Invoices"):
        if document.get("Type") == "ACCPAY" and document.get("Status") not in DEAD:
            bills[str(document.get("InvoiceNumber"))].append(document)
    orders = Counter[str]()
    for order in sandbox.autotask.state("PurchaseOrders"):
        number = str(order["purchaseOrderNumber"])
        orders[number] += 1
        found = bills.get(number, [])
        if len(found) != 1:
            made = ", ".join(f"{b.get('InvoiceID', '')[:8]} {b.get('Status')} {b.get('UpdatedDateUTC')}" for b in found)
            failures.append(f"purchase order {number}: {len(found)} bills" + (f" ({made})" if made else ""))
            continue
        vendor = companies.get(order["vendorID"], {}).get("companyName")
        name = contacts.get((found[0].get("Contact") or {}).get("ContactID"), {}).get("Name")
        if name != vendor:
            failures.append(f"purchase order {number}: bill for {name!r}, vendor {vendor!r}")
    failures += [f"bill {n}: no purchase order" for n in bills if n not in orders]
    return failures
