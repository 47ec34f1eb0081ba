"""Links a person can open to one Xero record: Xero's documented deep links
(https://developer.xero.com/documentation/api-guides/deep-link-xero: "View an invoice", "View a bill", "View a
purchase order", "View a credit note"), through `organisationlogin` with the organisation's ShortCode when it is
known, so the link opens the right organisation for someone in several."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

Kind = Literal["invoice", "credit_note", "bill", "purchase_order"]

PATHS: dict[str, str] = {
    "invoice": "/AccountsReceivable/View.aspx?InvoiceID={id}",
    "credit_note": "/AccountsReceivable/ViewCreditNote.aspx?creditNoteID={id}",
    "bill": "/AccountsPayable/Edit.aspx?InvoiceID={id}",
    "purchase_order": "/Accounts/Payable/PurchaseOrders/View/{id}/",
}


def record_link(kind: str, xero_id: str | None, shortcode: str | None = None) -> str | None:
    if not xero_id or kind not in PATHS:
        return None
    path = PATHS[kind].format(id=quote(xero_id, safe="-"))
    if shortcode:
        code = quote(shortcode, safe="!")
        return f"https://go.xero.com/organisationlogin/default.aspx?shortcode={code}&redirecturl={path}"
    return f"https://go.xero.com{path}"
