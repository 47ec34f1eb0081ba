"""Xero invoice state -> what the Autotask invoice's paidDate should become, and why.

Autotask has no accounts receivable: a paid invoice is one with paidDate. A date a person set by hand is
never overwritten unless settings say so; every decision, including "left alone", is explained.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from autoxero.xero import models as xm

Action = Literal["set", "clear", "none"]


@dataclass(frozen=True, slots=True)
class PaidDecision:
    action: Action
    paid_date: dt.date | None
    reason: str
    part_paid: bool = False


def decide_paid_date(xero: xm.Invoice, autotask_paid: dt.date | None, last_written: dt.date | None,
                     overwrite_manual: bool) -> PaidDecision:
    """`last_written` is the paidDate autoxero itself last wrote (None if it never wrote one)."""
    status = (xero.Status or "").upper()
    amount_due = xero.AmountDue if xero.AmountDue is not None else Decimal(0)
    paid = xero.AmountPaid or Decimal(0)
    credited = xero.AmountCredited or Decimal(0)
    manual = autotask_paid is not None and autotask_paid != last_written
    if status == "PAID" or (status == "AUTHORISED" and amount_due == 0 and (paid + credited) > 0):
        fully_paid = xero.FullyPaidOnDate.date() if xero.FullyPaidOnDate else _last_payment(xero)
        if fully_paid is None:
            return PaidDecision("none", None, "Xero says paid but gives no payment date; waiting for it")
        if autotask_paid == fully_paid:
            return PaidDecision("none", fully_paid, "already marked paid on that date")
        if manual and not overwrite_manual:
            return PaidDecision("none", autotask_paid, f"paid in Xero on {fully_paid}, but the Autotask date "
                                f"{autotask_paid} was set by hand and settings keep it")
        return PaidDecision("set", fully_paid, f"fully paid in Xero on {fully_paid}")
    part_paid = status == "AUTHORISED" and (paid + credited) > 0
    if autotask_paid is None:
        reason = f"part-paid in Xero ({paid + credited:.2f} received, {amount_due:.2f} due)" if part_paid else \
            f"not paid in Xero ({status.lower() or 'unknown'})"
        return PaidDecision("none", None, reason, part_paid)
    if manual and not overwrite_manual:
        return PaidDecision("none", autotask_paid, f"not fully paid in Xero ({status.lower()}), but the Autotask "
                            "date was set by hand and settings keep it", part_paid)
    return PaidDecision("clear", None, f"no longer paid in Xero ({status.lower()}: a payment was removed or "
                        "reversed)", part_paid)


def _last_payment(xero: xm.Invoice) -> dt.date | None:
    dates = [p.Date.date() for p in xero.Payments or [] if p.Date]
    return max(dates) if dates else None
