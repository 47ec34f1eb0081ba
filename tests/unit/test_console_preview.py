"""The preview page reads as a finance person needs it: each record named once, and the link to an invoice's
story (why each line gets its codes) only on an invoice's row."""

from __future__ import annotations

from autoxero.console import web
from autoxero.console.app import FLOWS, PAGES
from autoxero.console.auth import Person
from autoxero.console.preview import Preview, _describe


def rows(*plans: dict) -> list[dict]:
    out = []
    for plan in plans:
        sentence, lines = _describe(plan["detail"], plan["label"])
        out.append({**plan, "detail": sentence, "lines": lines})
    return out


def test_each_record_is_named_once_and_only_invoices_link_to_their_story():
    contact = {"record": "29683502", "label": "Pohutukawa Dental", "action": "attention", "flow": "contacts",
               "detail": "Pohutukawa Dental: Xero has 'pohutukawa dental', which differs only in capitals."}
    invoice = {"record": "24005", "label": "Invoice INV-10005 (Rimu)", "action": "create invoice",
               "flow": "invoices", "detail": {"Date": "2026-08-01", "Status": "DRAFT", "LineItems": [
                   {"Description": "Support", "Quantity": 2, "UnitAmount": "55.00", "AccountCode": "200"}]}}
    page = web.render("preview.html", result=Preview("invoices", rows(contact, invoice), {}), flows=FLOWS,
                      person=Person("a@b.example", "s", ("viewer",)), pages=PAGES, path="/console/preview",
                      csrf="t", customer="Acme", notice=None)
    text = " ".join(page.split())
    assert text.count("Pohutukawa Dental") == 1 and "differs only in capitals" in text
    assert 'href="/console/invoices/24005"' in text and 'href="/console/invoices/29683502"' not in text
    assert "1 line(s), 110.00 before tax" in text and "2 records would be touched" in text
