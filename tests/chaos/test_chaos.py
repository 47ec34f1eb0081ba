"""The chaos check's verdict (bench/chaos_truth.py) on hand-built simulator states: it must pass a correct
world and fail each kind of wrong one. `make chaos-quick` (part of `make test`) runs the whole chaos scenario,
its mutants and the token race; `make chaos` runs 20 seeds."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import pytest

from bench.chaos_truth import TRUTH_CHECKS, Planted, check

CUSTOMER, VENDOR = "Acme Ltd", "Parts Co"


def world(numbering: str = "autotask") -> dict[str, dict[str, list[dict[str, Any]]]]:
    """One invoice, one credit note and one purchase order, each in Xero once and stamped/paid right."""
    xero_number = {"autotask": "INV-1", "xero": "X-0001"}[numbering]
    autotask = {
        "Companies": [{"id": 1, "companyName": CUSTOMER}, {"id": 2, "companyName": VENDOR}],
        "Invoices": [
            {"id": 10, "invoiceNumber": "INV-1" if numbering == "autotask" else xero_number, "companyID": 1,
             "invoiceTotal": 110.0045, "webServiceDate": "2026-11-01T00:00:00Z", "paidDate": "2026-11-20T00:00:00"},
            {"id": 11, "invoiceNumber": "INV-2", "companyID": 1, "invoiceTotal": -55.0,
             "webServiceDate": "2026-11-01T00:00:00Z", "paidDate": None},
        ],
        "PurchaseOrders": [{"id": 30, "purchaseOrderNumber": "PO-1", "vendorID": 2}],
    }
    invoice = {"InvoiceID": "x-10", "Type": "ACCREC", "Status": "PAID", "Total": "110.00",
               "Contact": {"ContactID": "c1"}, "FullyPaidOnDate": "/Date(1795132800000+0000)/"}  # 2026-11-20
    note = {"CreditNoteID": "x-11", "Status": "AUTHORISED", "Total": "55.00", "Contact": {"ContactID": "c1"}}
    if numbering == "autotask":
        invoice["InvoiceNumber"], note["CreditNoteNumber"] = "INV-1", "INV-2"
    else:
        invoice.update(InvoiceNumber=xero_number, Reference="INV-1")
        note.update(CreditNoteNumber="CN-0001", Reference="INV-2 order 7")
    xero = {
        "Contacts": [{"ContactID": "c1", "Name": CUSTOMER}, {"ContactID": "c2", "Name": VENDOR}],
        "Invoices": [invoice, {"InvoiceID": "x-30", "Type": "ACCPAY", "Status": "AUTHORISED", "InvoiceNumber": "PO-1",
                               "Contact": {"ContactID": "c2"}}],
        "CreditNotes": [note],
    }
    return {"xero": xero, "autotask": autotask}


def verdict(state: dict[str, Any], numbering: str = "autotask", *, impossible: dict[int, str] | None = None,
            told: set[str] | None = None) -> dict[str, list[str]]:
    systems = SimpleNamespace(**{name: SimpleNamespace(state=lambda entity, d=data: copy.deepcopy(d.get(entity, [])))
                                 for name, data in state.items()})
    planted = Planted(numbering, numbers={"INV-1": 10, "INV-2": 11}, impossible=impossible or {})
    return {name: found for name, found in check(systems, planted, told or set()).items() if found}


@pytest.mark.parametrize("numbering", ["autotask", "xero"])
def test_a_correct_world_passes(numbering):
    assert verdict(world(numbering), numbering) == {}


def _duplicate(w):
    w["xero"]["Invoices"].append({**w["xero"]["Invoices"][0], "InvoiceID": "x-99"})


def _duplicate_across_types(w):
    w["xero"]["CreditNotes"].append({**w["xero"]["CreditNotes"][0], "CreditNoteID": "x-98",
                                     "CreditNoteNumber": "INV-1"})


def _missing(w):
    del w["xero"]["CreditNotes"][0]
    w["autotask"]["Invoices"][1]["webServiceDate"] = None


def _unstamped(w):
    w["autotask"]["Invoices"][1]["webServiceDate"] = None


def _stamped_not_in_xero(w):
    del w["xero"]["CreditNotes"][0]


def _total(w):
    w["xero"]["Invoices"][0]["Total"] = "110.01"


def _contact(w):
    w["xero"]["Invoices"][0]["Contact"] = {"ContactID": "c2"}


def _paid_date_missing(w):
    w["autotask"]["Invoices"][0]["paidDate"] = None


def _paid_date_wrong(w):
    w["autotask"]["Invoices"][0]["paidDate"] = "2026-11-19T00:00:00"


def _unknown_document(w):
    w["xero"]["Invoices"].append({**w["xero"]["Invoices"][0], "InvoiceID": "x-77", "InvoiceNumber": "INV-7"})


def _second_bill(w):
    w["xero"]["Invoices"].append({**w["xero"]["Invoices"][1], "InvoiceID": "x-31"})


def _credit_note_as_invoice(w):
    note = w["xero"]["CreditNotes"].pop()
    w["xero"]["Invoices"].append({"InvoiceID": "x-11", "Type": "ACCREC", "Status": "AUTHORISED", "Total": "55.00",
                                  "InvoiceNumber": "INV-2", "Contact": note["Contact"]})


@pytest.mark.parametrize(("corrupt", "caught_by"), [
    (_duplicate, {"duplicates"}),
    (_duplicate_across_types, {"duplicates"}),
    (_missing, {"missing"}),
    (_unstamped, {"stamped"}),
    (_stamped_not_in_xero, {"missing", "stamped"}),
    (_total, {"totals"}),
    (_credit_note_as_invoice, {"totals"}),
    (_contact, {"contact"}),
    (_paid_date_missing, {"paid_date"}),
    (_paid_date_wrong, {"paid_date"}),
    (_unknown_document, {"unknown"}),
    (_second_bill, {"bills"}),
], ids=lambda v: getattr(v, "__name__", "").strip("_") or None)
def test_each_wrong_world_fails_its_check(corrupt, caught_by):
    w = world()
    corrupt(w)
    assert set(verdict(w)) == caught_by


def test_a_missing_document_is_excused_only_if_the_harness_planted_its_cause_and_a_person_was_told():
    w = world()
    _missing(w)
    why = {11: "its number is already used in Xero"}
    assert verdict(w, impossible=why, told={"11"}) == {}
    assert set(verdict(w, impossible=why, told=set())) == {"missing"}
    assert set(verdict(w, told={"11"})) == {"missing"}  # told, but nothing planted: autoxero's own failure


def test_in_xero_numbering_documents_belong_by_reference_and_the_number_is_written_back():
    w = world("xero")
    w["autotask"]["Invoices"][0]["invoiceNumber"] = "INV-1"  # Xero's number never written back
    assert set(verdict(w, "xero")) == {"stamped"}
    w = world("xero")
    w["xero"]["Invoices"].append({**w["xero"]["Invoices"][0], "InvoiceID": "x-99", "InvoiceNumber": "X-0002"})
    assert set(verdict(w, "xero")) == {"duplicates"}


def test_every_truth_check_is_exercised_above():
    exercised = {"duplicates", "missing", "stamped", "totals", "contact", "paid_date", "unknown", "bills"}
    assert exercised == set(TRUTH_CHECKS)
