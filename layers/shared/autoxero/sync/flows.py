"""Every flow autoxero runs, in one registry: what its schedule runs, what a message on its queue names and
how those records are brought up to date, and where it keeps its state. Handlers, the CLI and the harnesses
all find a flow here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autoxero.sync import contacts, invoices, payments, purchase_orders
from autoxero.sync.run import FlowRun

Message = dict[str, Any]


class UnknownFlow(ValueError):
    """A name that is not one of the flows."""


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    run: Callable[[FlowRun], None]
    """What a schedule (or `autoxero sync`) runs."""
    kind: str | None = None
    """The id-map kind of the records it sends to Xero (None: it sends nothing to Xero)."""
    cursors: tuple[str, ...] = ()
    read_message: Callable[[FlowRun, Message], Any] | None = None
    """A queue message -> the record it names, None when the message is not this flow's; raises ValueError for
    a message it cannot read. None here: the flow has no queue."""
    sync_records: Callable[[FlowRun, list[Any]], object] | None = None
    """Bring these records (what `read_message` returned, duplicates included) up to date in one go."""
    retry_records: Callable[[FlowRun, list[str]], object] | None = None
    """Retry just these records after a person fixed them; None: the next full run retries them."""
    no_queue: str = ""

    def retry(self, run: FlowRun, record_ids: list[str]) -> None:
        if self.retry_records is not None:
            self.retry_records(run, record_ids)
        else:
            self.run(run)


FLOWS: dict[str, Flow] = {flow.name: flow for flow in (
    Flow("contacts", contacts.run_contacts, kind=contacts.KIND, cursors=(contacts.CURSOR,),
         read_message=contacts.company_of, sync_records=contacts.sync_companies,
         retry_records=lambda run, ids: contacts.sync_companies(run, [int(i) for i in ids])),
    Flow("invoices", invoices.run_invoices, kind=invoices.KIND, cursors=(invoices.VOIDS_CURSOR,),
         no_queue="Autotask sends no invoice webhooks"),
    Flow("purchase_orders", purchase_orders.run_purchase_orders, kind=None,
         no_queue="Autotask sends no purchase order webhooks"),
    Flow("payments", payments.run_payments, cursors=(payments.CURSOR,), read_message=payments.invoice_of,
         sync_records=payments.sync_invoice_ids),
)}


def flow_named(name: str) -> Flow:
    try:
        return FLOWS[name]
    except KeyError:
        raise UnknownFlow(f"unknown flow {name!r}; the flows are {', '.join(FLOWS)}") from None
