"""`autoxero webhooks register autotask` and `autoxero webhooks status`: the stack's Company and Contact
webhooks in Autotask, pointed at its AutotaskWebhookUrl and signed with the key its receiver reads."""

from __future__ import annotations

import secrets as pysecrets
from typing import Annotated, Any

import typer
from rich.table import Table

from autoxero_cli.common import Stack, console, fail, target

webhooks_app = typer.Typer(no_args_is_help=True, help="The stack's webhooks in Autotask: register, status.")


def stack_webhook_url(tgt: Any) -> str | None:
    """The URL Autotask must call: the stack's AutotaskWebhookUrl output (the local gateway's route locally)."""
    if tgt.is_local:
        return f"{tgt.local['gateway_url']}/webhooks/autotask"
    url = tgt.outputs.get("AutotaskWebhookUrl")
    return str(url) if url else None


def webhook_url(tgt: Any) -> str:
    url = stack_webhook_url(tgt)
    if not url:
        raise fail(f"stack {tgt.name} has no AutotaskWebhookUrl output: deploy the current template.yaml first")
    return url


def _autotask(rt: Any) -> Any:
    from autoxero.autotask.errors import AutotaskError

    try:
        return rt.autotask_client()
    except (AutotaskError, KeyError, ValueError) as err:
        raise fail(f"cannot reach Autotask with the stack's credentials ({err}); run "
                   "`autoxero credentials set autotask` first") from None


@webhooks_app.command("register")
def register(system: Annotated[str, typer.Argument(help="autotask (Xero's webhook is set in the Xero app)")],
             stack: Stack = None,
             email: Annotated[str | None, typer.Option(
                 help="Where Autotask e-mails delivery failures and threshold notices")] = None,
             rotate: Annotated[bool, typer.Option(
                 help="Generate a new secret key even if the stack already has one")] = False) -> None:
    """Create (or bring up to date) the Company and Contact webhooks; running it again changes, never duplicates."""
    from autoxero.autotask.errors import AutotaskError
    from autoxero.autotask.webhook_registry import register as register_hooks

    if system != "autotask":
        raise fail(f"only Autotask's webhooks are registered here (got {system!r}); Xero's webhook URL and key are "
                   "set by hand in the Xero app (README, step 2)", code=2)
    tgt = target(stack)
    url = webhook_url(tgt)
    rt = tgt.runtime()
    secret_id = rt.config.webhook_secret_id("autotask")
    key = "" if rotate else str(rt.secrets.read(secret_id, fresh=True).get("webhook_secret") or "")
    if not key:
        key = pysecrets.token_hex(24)  # 48 characters: Autotask's SecretKey holds at most 64
        rt.secrets.update(secret_id, {"webhook_secret": key})  # first, so the receiver knows it before any event
    try:
        done = register_hooks(_autotask(rt), url, key, email=email)
    except AutotaskError as err:
        raise fail(f"Autotask refused the webhook: {err}") from None
    for item in done:
        verb = "created" if item.created else "updated"
        console.print(f"{item.kind} {item.webhook_id}: {verb}; {item.fields_added} field(s) added, "
                      f"{item.fields_changed} changed", highlight=False)
        if item.deactivated_duplicates:
            console.print(f"  deactivated duplicate(s) with the same URL: {item.deactivated_duplicates}",
                          highlight=False)
    console.print(f"Autotask calls {url} for company and contact changes; the key is in the stack's "
                  "Autotask webhook secret. Check with `autoxero webhooks status`.", highlight=False)


@webhooks_app.command("status")
def status(stack: Stack = None) -> None:
    """What Autotask has registered, whether each webhook is active and ready, and which are this stack's."""
    from autoxero.autotask.errors import AutotaskError
    from autoxero.autotask.webhook_registry import KINDS, report

    tgt = target(stack)
    url = webhook_url(tgt)
    try:
        rows = report(_autotask(tgt.runtime()), url)
    except AutotaskError as err:
        raise fail(f"Autotask would not list its webhooks: {err}") from None
    table = Table(title=f"Autotask webhooks (this stack's URL: {url})")
    for column in ("webhook", "name", "active", "ready", "events", "fields", "this stack"):
        table.add_column(column)
    for row in rows:
        table.add_row(f"{row.kind} {row.webhook_id}", row.name, "yes" if row.active else "NO",
                      "yes" if row.ready else "NO", ", ".join(row.events), str(row.subscribed_fields),
                      "yes" if row.ours else row.url)
    console.print(table)
    problems = []
    for kind in KINDS:
        ours = [r for r in rows if r.kind == kind.resource and r.ours]
        if not ours:
            problems.append(f"no {kind.resource} points at this stack")
        elif not any(r.active and r.ready for r in ours):
            problems.append(f"{kind.resource} {ours[0].webhook_id} is not active and ready")
    if problems:
        raise fail("; ".join(problems) + ": run `autoxero webhooks register autotask"
                   + (f" --stack {tgt.name}`" if not tgt.is_local else "`"))
    console.print("Both webhooks point at this stack and are active and ready.")
