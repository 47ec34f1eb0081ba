"""The autoxero command line (typer + rich): local sandbox by default, a deployed stack with --stack."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from autoxero_cli.common import Stack, console, err_console, fail, options, target

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
attention_app = typer.Typer(no_args_is_help=True, help="Records that need a person: list, explain, retry, resolve.")
settings_app = typer.Typer(no_args_is_help=True,
                           help="The sync settings document: show, validate, diff, push, suggest.")
sandbox_app = typer.Typer(no_args_is_help=True, help="The embedded Autotask and Xero sandbox.")
connect_app = typer.Typer(no_args_is_help=True, help="Connect this deployment to an outside system.")
credentials_app = typer.Typer(no_args_is_help=True, help="Store API credentials in the stack's secrets.")
resync_app = typer.Typer(no_args_is_help=True, help="Send one record to Xero again, safely.")
for sub, name in ((attention_app, "attention"), (settings_app, "settings"), (sandbox_app, "sandbox"),
                  (connect_app, "connect"), (credentials_app, "credentials"), (resync_app, "resync")):
    app.add_typer(sub, name=name)



@app.callback()
def _root(region: Annotated[str | None, typer.Option(
        "--region", help="The AWS region of --stack (default: samconfig.toml's, then your AWS profile's)")] = None,
          verbose: Annotated[int, typer.Option("--verbose", "-v", count=True,
                                               help="Logs on stderr (-v info, -vv debug)")] = 0) -> None:
    """autoxero: the Autotask PSA to Xero sync. Runs against the local sandbox unless --stack is given."""
    import os
    import warnings

    from autoxero.observability import logs_for_a_terminal

    options["region"] = region
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # metrics are for CloudWatch, not a terminal
    warnings.filterwarnings("ignore", module="aws_lambda_powertools")
    logs_for_a_terminal({0: None, 1: "INFO"}.get(verbose, "DEBUG"))


# ----------------------------------------------------------------------------- running things


@app.command()
def demo() -> None:
    """Run every flow on the embedded sandbox, then reconcile (what `make demo` runs)."""
    from autoxero_cli import demo as demo_module

    raise typer.Exit(demo_module.main())


def _flow_run(stack: str | None, flow: str, dry_run: bool) -> tuple[Any, Any]:
    from autoxero.sync.build import build_run

    rt = target(stack).runtime()
    return rt, build_run(rt, flow, None, dry_run)


def interruptible(again: str, work: Any) -> Any:
    """Ctrl-C mid-run: the lease is released and every write so far is recorded, so a rerun is safe."""
    try:
        return work()
    except KeyboardInterrupt:
        err_console.print(f"interrupted: what was already sent is recorded and nothing is sent twice; run "
                          f"`{again}` again to finish.", highlight=False)
        raise typer.Exit(130) from None


@app.command()
def sync(flow: Annotated[str, typer.Argument(help="contacts, invoices, purchase_orders or payments")],
         dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing")] = False,
         stack: Stack = None) -> None:
    """Run one flow now."""
    from autoxero.sync.build import execute_run
    from autoxero.sync.flows import FLOWS
    from autoxero_cli.records import UnknownRecord, check_flow
    from autoxero_cli.summary import counts_table, outcome_line

    try:
        check_flow(flow)
    except UnknownRecord as err:
        raise fail(str(err), code=2) from None
    rt, run = _flow_run(stack, flow, dry_run)
    summary = interruptible(f"autoxero sync {flow}", lambda: execute_run(rt, run, FLOWS[flow].run))
    if dry_run:
        table = Table(title=f"{flow}: what would happen (nothing was written)")
        for column in ("record", "label", "action", "detail"):
            table.add_column(column)
        for plan in run.plans:
            detail = plan["detail"]
            text = json.dumps(detail, default=str)[:160] if not isinstance(detail, str) else detail
            table.add_row(plan["record"], plan["label"], plan["action"], text)
        console.print(table)
    title = f"{flow}: what would happen (dry run)" if dry_run else f"{flow}: what this run did"
    console.print(counts_table({flow: summary}, title))
    problem = outcome_line(flow, summary)
    if problem:
        raise fail(problem)


@resync_app.command("invoice")
def resync_invoice(invoice: Annotated[str, typer.Argument(help="The invoice number (INV-10005) or Autotask id")],
                   stack: Stack = None) -> None:
    """Push one invoice again. Exactly once still holds: a document already in Xero is found, not duplicated."""
    from autoxero.autotask import models as at
    from autoxero.sync.build import execute_run
    from autoxero.sync.invoices import run_invoices
    from autoxero_cli.records import UnknownRecord, resolve_record

    rt, run = _flow_run(stack, "invoices", False)
    try:
        autotask_id = int(resolve_record(rt, "invoices", invoice).id)
    except UnknownRecord as err:
        raise fail(str(err)) from None
    record = run.autotask.get("Invoices", autotask_id)
    if record is None:
        raise fail(f"Autotask has no invoice {autotask_id}")
    invoice = at.Invoice.model_validate(record)
    rt.state.ids.retry("invoice", autotask_id)
    rt.state.attention.clear("invoices", autotask_id)
    summary = execute_run(rt, run, lambda r: run_invoices(r, [invoice]))
    item = rt.state.attention.get("invoices", autotask_id)
    if item:
        raise fail(f"invoice {invoice.invoiceNumber} still needs attention: {item.message}")
    entry = rt.state.ids.get("invoice", autotask_id)
    console.print(f"invoice {invoice.invoiceNumber}: {entry.status if entry else 'not sent'} "
                  f"(Xero id {entry.xero_id if entry else '-'}); {summary.get('created', 0)} created, "
                  f"{summary.get('recovered', 0)} found already in Xero")


@app.command()
def status(stack: Stack = None) -> None:
    """Last run of each flow, cursors, Xero rate-limit headroom and token expiry."""
    from autoxero.sync.flows import FLOWS

    tgt = target(stack)
    rt = tgt.runtime()
    control = rt.state.control.status()
    console.print(f"[bold]Stack {tgt.name}: {control.describe()}[/]", highlight=False)
    table = Table(title=f"autoxero status: {tgt.name}")
    for column in ("flow", "last run", "created", "updated", "attention", "Xero calls", "stopped"):
        table.add_column(column)
    for flow in FLOWS:
        last = rt.state.runs.last(flow)
        if not last:
            table.add_row(flow, "never", "", "", "", "", "")
            continue
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(last["at"]))
        table.add_row(flow, when, str(last.get("created", 0)), str(last.get("updated", 0)),
                      str(last.get("attention", 0)), str(last.get("xero_calls", 0)), last.get("stopped") or "")
    console.print(table)
    cursors = rt.state.cursors.all([c for f in FLOWS.values() for c in f.cursors])
    console.print("cursors: " + ", ".join(f"{k} = {v or 'not started'}" for k, v in cursors.items()))
    console.print(f"needs attention: {len(rt.state.attention.list())} record(s)")
    skipped = rt.state.attention.skipped()
    console.print(f"skipped by a person (never sync): {len(skipped)} record(s)", highlight=False)
    for record in skipped[:20]:
        console.print(f"  {record.flow} {record.label or record.record_id}: {record.reason} ({record.by}, {record.at})",
                      highlight=False, markup=False)
    from autoxero.sync.progress import backfill_progress

    progress = backfill_progress(rt.state, rt.settings)
    if progress:
        console.print(progress.describe(time.time()), highlight=False)
    secret = rt.secrets.xero(rt.config.xero_secret_id)
    token = secret.token_set
    if token is not None and secret.connected:
        minutes = (token.expires_at - time.time()) / 60
        refreshed = secret.last_refreshed
        idle_days = (time.time() - refreshed) / 86400 if refreshed else 0
        console.print(f"Xero: {secret.tenant_name or secret.tenant_id}; access token "
                      f"{f'valid for {minutes:.0f} min' if minutes > 0 else 'expired (refreshed on next use)'}; "
                      f"refresh token used {idle_days:.1f} days ago (Xero drops it after 60 days unused)")
        try:
            client = rt.xero_client(max_retries=0)
            client.organisation()
            console.print(f"Xero headroom: {client.headroom.minute} calls left this minute, "
                          f"{client.headroom.day} today")
        except Exception as err:  # status shows what it can
            console.print(f"Xero headroom: unknown ({err})")
    else:
        console.print("Xero: not connected (run `autoxero connect xero`)")


# ----------------------------------------------------------------------------- connect and credentials


@connect_app.command("xero")
def connect_xero(stack: Stack = None,
                 port: Annotated[int, typer.Option(help="Loopback port (register http://localhost:PORT/callback "
                                                        "as a redirect URI in the Xero app)")] = 8765,
                 via_stack: Annotated[bool, typer.Option(
                     "--via-stack", help="Print a one-time link to the stack's own connect endpoint instead")] = False,
                 ) -> None:
    """Link Xero to this deployment (OAuth2): your browser signs in, the loopback callback stores the tokens."""
    from autoxero.xero.connect import ConnectService
    from autoxero_cli import loopback

    tgt = target(stack)
    rt = tgt.runtime()
    if tgt.is_local and not via_stack:
        import httpx

        gateway = tgt.local["gateway_url"]
        token = ConnectService.from_runtime(rt, redirect_uri=f"{gateway}/xero/callback").issue_setup_token()
        with httpx.Client(timeout=30) as http:
            start = http.get(f"{gateway}/xero/connect", params={"setup_token": token})
            if start.status_code != 302:
                raise fail(f"connect refused: {start.text}")
            done = http.get(http.get(start.headers["location"]).headers["location"])
        if done.status_code != 200:
            raise fail(done.text)
        console.print(done.text)
        return
    if via_stack:
        token = ConnectService.from_runtime(rt, redirect_uri="").issue_setup_token()
        url = tgt.outputs.get("XeroConnectUrl") or (f"{tgt.local['gateway_url']}/xero/connect" if tgt.is_local else "")
        if not url:
            raise fail(f"stack {tgt.name} has no XeroConnectUrl output: deploy the current template.yaml")
        console.print("Open this link within an hour, sign in to Xero and pick the organisation:")
        console.print(f"  {url}?setup_token={token}", highlight=False, soft_wrap=True)
        return
    outcome = loopback.connect_via_loopback(rt, port, console.print, browser=loopback.open_browser)
    if outcome.status != 200:
        raise fail(outcome.reason)
    console.print(outcome.reason)


@credentials_app.command("set")
def credentials_set(system: Annotated[str, typer.Argument(help="autotask or xero")], stack: Stack = None,
                    username: Annotated[str | None, typer.Option(help="Autotask API user")] = None,
                    integration_code: Annotated[str | None, typer.Option(help="Autotask tracking identifier")] = None,
                    client_id: Annotated[str | None, typer.Option(help="Xero app client id")] = None) -> None:
    """Store credentials (secrets are prompted for, never passed on the command line); Autotask's are
    checked against Autotask before they are saved."""
    rt = target(stack).runtime()
    if system == "autotask":
        from autoxero.autotask.client import AutotaskClient
        from autoxero.autotask.errors import AutotaskError
        from autoxero.autotask.query import Query, gte

        username = username or typer.prompt("Autotask API user name")
        secret = typer.prompt("Autotask API secret", hide_input=True)
        code = integration_code or typer.prompt("API tracking identifier (integration code)")
        webhook = typer.prompt("Webhook secret key (Enter to generate one)", default="", show_default=False)
        values = {"username": username, "secret": secret, "integration_code": code}
        try:
            client = AutotaskClient.from_secret(values, zone_lookup_url=rt.config.autotask_zone_lookup_url)
            client.count("Companies", Query([gte("id", 0)]))
        except AutotaskError as err:
            raise fail(f"Autotask refused these credentials: {err}") from None
        import secrets as pysecrets

        rt.secrets.update(rt.config.autotask_secret_id, values)
        # The webhook key goes to the receiver's own secret (it never reads the API credentials).
        rt.secrets.update(rt.config.webhook_secret_id("autotask"),
                          {"webhook_secret": webhook or pysecrets.token_hex(24)})
        console.print("Autotask credentials checked and saved.")
    elif system == "xero":
        client_id = client_id or typer.prompt("Xero app client id")
        client_secret = typer.prompt("Xero app client secret", hide_input=True)
        webhook_key = typer.prompt("Xero webhook key", hide_input=True)
        rt.secrets.update(rt.config.xero_secret_id, {"client_id": client_id, "client_secret": client_secret})
        rt.secrets.update(rt.config.webhook_secret_id("xero"), {"webhook_key": webhook_key})
        console.print("Xero app credentials saved; now run `autoxero connect xero`.")
    else:
        raise fail(f"unknown system {system!r}; choose autotask or xero")


# ----------------------------------------------------------------------------- sandbox


@sandbox_app.command("serve")
def sandbox_serve(autotask_port: Annotated[int, typer.Option(help="0 picks a free port")] = 0,
                  xero_port: Annotated[int, typer.Option(help="0 picks a free port")] = 0,
                  seed: Annotated[Path | None, typer.Option(help="A fixture JSON (default: the demo)")] = None,
                  replace: Annotated[bool, typer.Option(help="Start even if another sandbox is running")] = False,
                  ) -> None:
    """Start moto, both simulators and a local API gateway; other commands find them until you stop it."""
    from autoxero_cli.gateway import serve_gateway
    from autoxero_cli.local import LocalDeployment
    from autoxero_cli.localenv import local_aws, sandbox_credentials
    from autoxero_cli.target import TargetError, resolve
    from sandbox.server import Sandbox, load_fixture

    try:
        running = resolve(None)
    except TargetError:
        running = None
    if running is not None and running.local and not replace:
        raise fail(f"a sandbox is already running (Xero at {running.local['xero_url']}); stop it with Ctrl-C in its "
                   "terminal, or pass --replace to start another that the other commands will use instead")
    try:
        fixture = load_fixture(seed) if seed else load_fixture()
    except (FileNotFoundError, json.JSONDecodeError) as err:
        raise fail(f"cannot read the fixture: {err}") from None
    with local_aws() as endpoint, Sandbox.start(fixture, autotask_port=autotask_port, xero_port=xero_port) as box:
        credentials = sandbox_credentials(seed) if seed else None  # the stack holds the fixture's own credentials
        local = LocalDeployment.create(box, endpoint, credentials=credentials)
        gateway = serve_gateway(local.stack, box.endpoints)
        console.print(f"Autotask sandbox: {box.autotask_url}/atservicesrest/v1.0")
        console.print(f"Xero sandbox:     {box.xero_url}/api.xro/2.0")
        console.print(f"AWS (moto):       {endpoint}")
        console.print(f"API gateway:      {gateway.url}")
        console.print("Next: `autoxero connect xero`, `autoxero sync contacts`. Ctrl-C stops.")
        publish_and_wait(local, box, gateway.url, stop=gateway.stop)


from autoxero_cli import (  # noqa: E402 (their commands join the app defined above)
    attention_cli,
    control_cli,
    settings_cli,
)

attention_cli.register(attention_app)
control_cli.register(app, attention_app)
settings_cli.register(settings_app)
from autoxero_cli import console_cli  # noqa: E402 (the console and its people join the app too)
from autoxero_cli.console_cli import publish_and_wait  # noqa: E402
from autoxero_cli.webhooks_cli import webhooks_app  # noqa: E402

console_cli.register(app)
app.add_typer(webhooks_app, name="webhooks")
from autoxero_cli.invoke_cli import invoke  # noqa: E402
from autoxero_cli.reconcile_cli import reconcile  # noqa: E402

app.command()(reconcile)
app.command()(invoke)


def main() -> None:
    app()
