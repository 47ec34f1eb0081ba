"""The one e-mail a run may send: what happened, which record (number and customer), what to change, a link."""

from __future__ import annotations

from autoxero.alerts import MAX_LISTED, Notice, digest


def test_connection_and_records_share_one_digest():
    subject, body = digest("invoices", [Notice("Invoice INV-10020 (Pohutukawa Dental)", "no Xero contact yet",
                                                "Rename the Xero contact", "https://autotask.example/inv/20")],
                           "Xero refused the refresh token")
    assert subject == "the invoices sync cannot run; 1 record(s) need a change"
    assert body.index("could not run: Xero refused") < body.index("1. Invoice INV-10020 (Pohutukawa Dental)")
    assert "What to change: Rename the Xero contact" in body and "Open: https://autotask.example/inv/20" in body
    assert "autoxero attention" not in body


def test_a_long_list_is_cut_and_says_how_many_more():
    notices = [Notice(f"Invoice INV-{n}", "wrong", "fix") for n in range(MAX_LISTED + 3)]
    subject, body = digest("purchase_orders", notices, None)
    assert subject == f"{MAX_LISTED + 3} purchase orders record(s) need a change"
    assert f"{MAX_LISTED}. Invoice" in body and f"{MAX_LISTED + 1}. Invoice" not in body and "...and 3 more" in body
