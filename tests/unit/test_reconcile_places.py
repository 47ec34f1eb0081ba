"""The reconciliation's pure parts: every Xero time zone code becomes a real zone, and an invoice that both
differs and waits on a person is counted once, as held."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import yaml

from autoxero.autotask import models as at
from autoxero.mapping.reconcile import Customer, XeroDocument, compare
from autoxero.state import Identity, MapEntry
from autoxero.xero.timezones import organisation_zone

SPEC = Path(__file__).parents[1] / "contract" / "specs" / "xero_accounting.yaml"


def test_every_xero_time_zone_code_names_a_zone():
    spec = yaml.load(SPEC.read_text(), Loader=yaml.CSafeLoader)  # libyaml's safe loader: 0.6 s, not 3.5 s
    codes = spec["components"]["schemas"]["TimeZone"]["enum"]
    unknown = [c for c in codes if organisation_zone(c).key == "UTC" and "UTC" not in c and "GMT" not in c]
    assert unknown == []
    assert organisation_zone("NEWZEALANDSTANDARDTIME").key == "Pacific/Auckland"
    assert organisation_zone(None).key == "UTC"


def invoice(iid: int, total: str, **fields) -> at.Invoice:
    return at.Invoice.model_validate({"id": iid, "companyID": 1, "invoiceNumber": f"INV-{iid}",
                                      "invoiceDateTime": "2026-11-01T00:00:00Z", "invoiceTotal": total, **fields})


def entry(iid: int, xero_id: str) -> MapEntry:
    return MapEntry("invoice", str(iid), "synced", Identity(f"INV-{iid}"), "", xero_id=xero_id)


def test_a_differing_invoice_waiting_on_a_person_is_counted_once_as_held():
    invoices = [invoice(1, "115.00"), invoice(2, "230.00")]
    documents = {"x1": XeroDocument("x1", "INV-1", "invoice", "AUTHORISED", Decimal("100.00"), False,
                                    Decimal("100.00"), "NZD"),
                 "x2": XeroDocument("x2", "INV-2", "invoice", "AUTHORISED", Decimal("230.00"), False,
                                    Decimal("230.00"), "NZD")}
    rec = compare(invoices, {"1": entry(1, "x1"), "2": entry(2, "x2")}, documents, {"1"},
                  customers={1: Customer("Acme Ltd", "NZD")}, base_currency="NZD")
    assert [r.number for r in rec.explained] == ["INV-1"] and rec.problems == [] and rec.matched == 1
    money = rec.totals()["NZD"]
    assert (money.invoices, money.invoiced_in_autotask, money.held, money.in_xero) == (
        2, Decimal("345.00"), Decimal("115.00"), Decimal("330.00"))
    assert rec.explained[0].date == dt.date(2026, 11, 1) and rec.explained[0].customer == "Acme Ltd"
