"""`make demo`: the whole product on the embedded sandbox, the way a deployed stack would run it.

moto (server mode) stands in for AWS and the sandbox for Autotask and Xero. The stack's table, secrets
and queues are created from template.yaml; Xero is connected through the real OAuth2 flow (the
XeroConnect function's routes, over HTTP); every flow runs through its Lambda handler with the event its
schedule or webhook would send; Xero's webhooks reach the XeroWebhook function over HTTP, and the queue is
drained into SyncPayments. The customers pay after those webhooks were delivered, as they would, and the
payments come back through the payments poll run as its schedule would: Xero documents no webhook event for
a payment, so the poll, not a webhook, is what guarantees it. It ends with a summary per flow and a
reconciliation report under out/.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from autoxero.mapping.reconcile import Reconciliation
from autoxero.settings import SyncSettings
from autoxero_cli.gateway import serve_gateway
from autoxero_cli.invoke import invoke
from autoxero_cli.local import LocalDeployment
from autoxero_cli.localenv import local_aws
from autoxero_cli.report import write_report
from autoxero_cli.summary import counts_table
from autoxero_cli.template import ROOT
from sandbox.server import Sandbox, load_fixture

OUT = ROOT / "out"
DEMO_START_DATE = "2026-08-01"
SCHEDULED = (("contacts", "SyncContactsFunction"), ("invoices", "SyncInvoicesFunction"),
             ("purchase_orders", "SyncPurchaseOrdersFunction"))


@dataclass(frozen=True)
class World:
    local: LocalDeployment
    sandbox: Sandbox
    gateway_url: str


@dataclass
class DemoResult:
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    reconciliation: Reconciliation | None = None
    report: Path | None = None
    payments_applied: int = 0
    webhook_deliveries: int = 0
    paid_by_poll: int = 0

    @property
    def ok(self) -> bool:
        return self.reconciliation is not None and self.reconciliation.ok


class Demo:
    def __init__(self, console: Console, out: Path = OUT, seed: int = 7) -> None:
        self.console = console
        self.out = out
        self.rng = random.Random(seed)
        self.result = DemoResult()

    # ------------------------------------------------------------------ the steps

    def run(self) -> DemoResult:
        with self.world():
            pass
        return self.result

    @contextmanager
    def world(self, port: int = 0) -> Iterator[World]:
        """Every step of the demo, then the world it leaves (moto, the sandbox, the gateway) until the block ends:
        `autoxero console` and the browser tests serve the console from it."""
        fixture = load_fixture()
        with local_aws() as endpoint, Sandbox.start(fixture) as sandbox:
            with self._progress() as progress:
                steps = progress.add_task("autoxero demo", total=11)

                def step(text: str) -> None:
                    progress.update(steps, description=text)

                step("Creating the stack's table, secrets and queues from template.yaml (moto)")
                local = LocalDeployment.create(sandbox, endpoint)
                gateway = serve_gateway(local.stack, sandbox.endpoints, port)
                progress.advance(steps)
                try:
                    self._steps(local, sandbox, gateway.url, step, lambda: progress.advance(steps))
                except BaseException:
                    gateway.stop()
                    raise
            try:
                yield World(local, sandbox, gateway.url)
            finally:
                gateway.stop()

    def _steps(self, local: LocalDeployment, sandbox: Sandbox, gateway_url: str, step: Callable[[str], None],
               advance: Callable[[], None]) -> None:
        step("Connecting Xero through the OAuth2 flow (XeroConnect), registering the webhook")
        self._connect_xero(local, gateway_url)
        self._register_webhook(sandbox, gateway_url)
        advance()

        step("Reviewing settings: mappings suggested from both systems' reference data")
        self._push_settings(local)
        advance()

        for flow, function in SCHEDULED:
            step(f"Running the {flow.replace('_', ' ')} flow ({function}, as its schedule would)")
            self.result.summaries[flow] = invoke(function, {"flow": flow}, local.stack, sandbox.endpoints)
            advance()

        step("Delivering Xero's webhooks to XeroWebhook, then draining the queue into SyncPayments")
        self._deliver_and_drain(local, sandbox, gateway_url)
        advance()

        step("Applying customer payments in Xero")
        self.result.payments_applied = self._apply_payments(sandbox)
        advance()

        step("Delivering whatever webhooks Xero sends for them (it documents none for a payment)")
        self._deliver_and_drain(local, sandbox, gateway_url)
        advance()

        step("Polling Xero for payments (SyncPayments, as its schedule would)")
        self._poll_payments(local, sandbox)
        advance()

        step("Reconciling Autotask against Xero")
        self.result.reconciliation = self._reconcile(local)
        self.result.report = write_report(self.result.reconciliation, self.result.summaries,
                                          local.runtime().state.attention.list(), self.out)
        advance()

    def _progress(self) -> Progress:
        return Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                        TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=self.console,
                        transient=False)

    def _connect_xero(self, local: LocalDeployment, gateway_url: str) -> None:
        from autoxero.xero.connect import ConnectService

        rt = local.runtime("XeroConnectFunction")
        token = ConnectService.from_runtime(rt, redirect_uri=f"{gateway_url}/xero/callback").issue_setup_token()
        with httpx.Client(timeout=30, follow_redirects=False) as http:
            start = http.get(f"{gateway_url}/xero/connect", params={"setup_token": token})
            if start.status_code != 302:
                raise RuntimeError(f"connect did not redirect to Xero: {start.status_code} {start.text}")
            consent = http.get(start.headers["location"])  # the sandbox's login page approves at once
            callback = consent.headers["location"]
            done = http.get(callback)
            if done.status_code != 200:
                raise RuntimeError(f"the Xero callback failed: {done.status_code} {done.text}")
            query = parse_qs(urlparse(callback).query)
            assert "code" in query
        self.console.log(f"[green]✓[/] {done.text}")

    def _push_settings(self, local: LocalDeployment) -> None:
        from autoxero.mapping.suggest import merge
        from autoxero.sync.build import build_run
        from autoxero.sync.suggest import suggest_settings

        rt = local.runtime()
        proposal = suggest_settings(build_run(rt, "settings", None, dry_run=True))
        document = merge(SyncSettings().model_dump(mode="json"), proposal.patch)
        # Approved invoices, so the demo can show payments coming back (DRAFT is the product default).
        document["invoices"]["status"] = "AUTHORISED"
        # The sandbox's invoices are from August to October 2026: the demo sends that history too.
        document["invoices"]["start_date"] = DEMO_START_DATE
        settings = SyncSettings.model_validate(document)
        _, version = rt.state.settings.load()
        rt.state.settings.save(settings, version, author="demo")
        for reason in proposal.reasons:
            self.console.log(f"  suggested: {reason}")
        rt.state.control.resume("demo")  # a new stack starts paused; settings are pushed, so it may write now
        self.console.log("[green]✓[/] settings pushed and the stack resumed (it starts paused)")

    def _apply_payments(self, sandbox: Sandbox) -> int:
        """As the customer's finance team would: full payments, a part payment, one payment reversed."""
        xero = sandbox.xero
        token = xero.issue_token_set(scope="offline_access accounting.transactions")
        headers = {"Authorization": f"Bearer {token['access_token']}", "xero-tenant-id": xero.tenant_id}
        invoices = [i for i in xero.state("Invoices") if i["Type"] == "ACCREC" and i["Status"] == "AUTHORISED"]
        self.rng.shuffle(invoices)
        chosen = invoices[: max(1, len(invoices) // 3)]
        payments = []
        for index, invoice in enumerate(chosen):
            due = Decimal(str(invoice["AmountDue"]))
            amount = due if index % 8 else (due / 2).quantize(Decimal("0.01"))  # every eighth: part-paid
            payments.append({"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"},
                             "Date": "2026-11-20", "Amount": float(amount), "Reference": "Demo bank feed"})
        with httpx.Client(base_url=f"{sandbox.xero_url}/api.xro/2.0", headers=headers, timeout=30) as http:
            for start in range(0, len(payments), 50):
                answer = http.put("/Payments", params={"summarizeErrors": "false"},
                                  json={"Payments": payments[start:start + 50]})
                answer.raise_for_status()
            paid = [p for p in http.get("/Payments").json()["Payments"] if p.get("Status") == "AUTHORISED"]
            if paid:  # a payment recorded by mistake and removed again: the invoice must show unpaid
                http.post(f"/Payments/{paid[0]['PaymentID']}", json={"Payments": [{"Status": "DELETED"}]})
        return len(payments)

    def _register_webhook(self, sandbox: Sandbox, gateway_url: str) -> None:
        """As a person does in the Xero app's Webhooks page: the URL, then Xero's intent-to-receive check."""
        with httpx.Client(base_url=sandbox.xero_url, timeout=60) as control:
            control.post("/_sandbox/webhooks/targets", json={"url": f"{gateway_url}/webhooks/xero"})
            intent = control.post("/_sandbox/webhooks/intent-to-receive").json()
        if not intent.get("ok"):
            raise RuntimeError(f"the webhook endpoint failed Xero's intent-to-receive check: {intent}")
        self.console.log("[green]✓[/] Xero webhook registered; intent-to-receive passed (200 signed, 401 forged)")

    def _deliver_and_drain(self, local: LocalDeployment, sandbox: Sandbox, gateway_url: str) -> None:
        with httpx.Client(base_url=sandbox.xero_url, timeout=120) as control:
            delivered = control.post("/_sandbox/webhooks/deliver").json()["deliveries"]
        failed = [d for d in delivered if d.get("status") not in (200, None)]
        if failed:
            raise RuntimeError(f"Xero could not deliver its webhooks: {failed}")
        self.result.webhook_deliveries += sum(int(d.get("delivered", 0)) for d in delivered)
        sqs = local.stack.client("sqs")
        url = local.stack.physical["XeroEventsQueue"]
        totals = self.result.summaries.setdefault("payments", {"messages": 0})
        while True:
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = answer.get("Messages", [])
            if not messages:
                break
            records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                        "eventSource": "aws:sqs", "eventSourceARN": local.stack.physical["XeroEventsQueue.Arn"],
                        "awsRegion": "us-east-1"} for m in messages]
            reply = invoke("SyncPaymentsFunction", {"Records": records}, local.stack, sandbox.endpoints)
            for key, value in (local.runtime().state.runs.last("payments") or {}).items():
                if isinstance(value, int) and key != "at":
                    totals[key] = totals.get(key, 0) + value
            failed = {f["itemIdentifier"] for f in reply.get("batchItemFailures", [])}
            for message in messages:
                if message["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            totals["messages"] += len(messages)
            if failed:
                raise RuntimeError(f"{len(failed)} payment events failed")

    def _poll_payments(self, local: LocalDeployment, sandbox: Sandbox) -> None:
        polled = invoke("SyncPaymentsFunction", {"flow": "payments"}, local.stack, sandbox.endpoints)
        totals = self.result.summaries.setdefault("payments", {"messages": 0})
        for key, value in polled.items():
            if isinstance(value, int) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
        self.result.paid_by_poll = int(polled.get("paid", 0))

    def _reconcile(self, local: LocalDeployment) -> Reconciliation:
        from autoxero.sync.build import build_run
        from autoxero.sync.reconcile import reconcile

        rt = local.runtime()
        return reconcile(build_run(rt, "reconcile", None, dry_run=True))


def summary_table(summaries: dict[str, dict[str, Any]]) -> Table:
    return counts_table(summaries, "autoxero demo: what each flow did")


def main(console: Console | None = None) -> int:
    import os

    from autoxero.observability import logger

    # The functions' JSON logs and metrics are for CloudWatch; the demo shows its own progress instead.
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    logger.setLevel("WARNING")
    console = console or Console(width=None if Console().is_terminal else 110)
    started = time.monotonic()
    result = Demo(console).run()
    console.print(summary_table(result.summaries))
    rec = result.reconciliation
    if rec is not None:
        console.print(f"Payments applied in Xero: {result.payments_applied}; webhook events delivered: "
                      f"{result.webhook_deliveries}; invoices the payments poll marked paid: {result.paid_by_poll}")
        for currency, money in rec.totals().items():
            console.print(f"Reconciliation, {currency}: {money.invoiced_in_autotask:,.2f} invoiced in Autotask, "
                          f"{money.in_xero:,.2f} in Xero ({money.outstanding:,.2f} outstanding), "
                          f"{money.held:,.2f} held with attention, {money.exported_before:,.2f} exported before "
                          "autoxero.", highlight=False)
        console.print(f"{rec.matched} invoices agree; {len(rec.explained)} are held with attention (see `autoxero "
                      f"attention`); {rec.exported_elsewhere} were exported before autoxero; {len(rec.problems)} "
                      f"problems; {len(rec.purchases)} bills checked.")
        console.print(f"Report: {result.report} (and .html)")
    console.print(f"Finished in {time.monotonic() - started:.1f} s")
    if not result.ok:
        console.print("[bold red]The sandbox did not reconcile[/]")
        for row in (rec.problems if rec else [])[:20]:
            console.print(f"  {row.number}: {row.issue} {row.note}")
        return 1
    console.print("[bold green]The sandbox reconciles.[/]")
    from autoxero_cli.users import CONSOLE_PORT, DEMO_PASSWORD, DEMO_USERS

    console.print(f"See it in the console: `.venv/bin/autoxero console`, then open "
                  f"http://127.0.0.1:{CONSOLE_PORT}/console/login as {DEMO_USERS[0][0]} (password {DEMO_PASSWORD}; "
                  f"{DEMO_USERS[1][0]} is a viewer).", highlight=False)
    return 0
