"""`autoxero doctor`: a read-only preflight against the real services, one line each with the fix.

It reads and never writes (no PATCH, no PUT, no token refresh beyond what any Xero call does), so it is
safe on a live customer at any time, paused or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The entities autoxero reads (docs/autotask.md §9) and the Invoice fields it writes (§10).
READS = ("Companies", "Contacts", "Invoices", "BillingItems", "BillingCodes", "Products", "Taxes", "TaxCategories",
         "TaxRegions", "InvoiceTemplates", "PaymentTerms", "PurchaseOrders", "PurchaseOrderItems", "Countries",
         "Currencies")
WRITES = ("webServiceDate", "paidDate")
XERO_REFRESH_DAYS = 60  # docs/xero.md: an unused refresh token expires after 60 days
THRESHOLD_WARNING = 0.2  # less than a fifth of the hourly Autotask budget left


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None  # None: could not be checked (said why)
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = {True: "✓", False: "✗", None: "?"}[self.ok]
        return f"{mark} {self.name}: {self.detail}" + (f" — fix: {self.fix}" if self.fix and not self.ok else "")


def _guard(name: str, fix: str, probe: Callable[[], Check | list[Check]]) -> list[Check]:
    try:
        found = probe()
    except Exception as err:  # a preflight reports every failure as a line, it never stops at the first
        return [Check(name, False, f"{type(err).__name__}: {err}", fix)]
    return found if isinstance(found, list) else [found]


def autotask_checks(rt: Any) -> list[Check]:
    from autoxero.autotask.query import Query, gte

    settings = rt.settings
    client = rt.autotask_client()
    def zone() -> Check:
        client.count("Companies", Query([gte("id", 0)]))
        return Check("Autotask zone and credentials", True, f"{client.base_url} accepts the API user "
                     f"{client.credentials.username}")

    checks = _guard("Autotask zone and credentials", "check the API user name, secret and tracking identifier "
                    "(`autoxero credentials set autotask`)", zone)
    if not checks[0].ok:
        return checks

    def reads() -> Check:
        refused = []
        for entity in READS:
            info = client.entity_information(entity)
            if not info.get("canQuery", True) or info.get("userAccessForQuery", "All") == "None":
                refused.append(entity)
        return Check("Autotask API user can read", not refused,
                     "every entity autoxero reads" if not refused else f"cannot query {', '.join(refused)}",
                     "give the API user's security level read access to those entities")

    def writes() -> Check:
        info = client.entity_information("Invoices")
        fields = client.fields("Invoices")
        read_only = [f for f in WRITES if f in fields and fields[f].isReadOnly]
        can_update = info.get("canUpdate", False) and info.get("userAccessForUpdate", "All") != "None"
        ok = can_update and not read_only
        return Check("Autotask API user can update Invoices", ok,
                     f"{', '.join(WRITES)} are writable" if ok else
                     ("Invoices cannot be updated" if not can_update else f"read-only: {', '.join(read_only)}"),
                     "give the API user's security level Contracts > Invoices edit permission (autoxero writes "
                     "only webServiceDate and paidDate)")

    def udf() -> Check:
        wanted = settings.contacts.billing_contact_udf
        if not wanted:
            return Check("billing-contact field", True, "not used (contacts.billing_contact_udf is null)")
        names = client.udf_names("Companies")
        return Check("billing-contact field", wanted in names,
                     f"company field {wanted!r} exists" if wanted in names else
                     f"no company field {wanted!r} (fields: {', '.join(names) or 'none'})",
                     "create it in Autotask (Admin > Extensions > User-Defined Fields > Companies) or set "
                     "contacts.billing_contact_udf to an existing field, or null")

    def threshold() -> Check:
        info = client.threshold()
        share = info.remaining / info.externalRequestThreshold if info.externalRequestThreshold else 0
        return Check("Autotask hourly request budget", share >= THRESHOLD_WARNING,
                     f"{info.remaining:,} of {info.externalRequestThreshold:,} requests left this hour",
                     "other integrations are using most of the shared budget: find them, or wait for the hour "
                     "to roll over")

    for name, fix, probe in (("Autotask API user can read", "", reads), ("Autotask API user can update Invoices",
                                                                          "", writes),
                             ("billing-contact field", "", udf), ("Autotask hourly request budget", "", threshold)):
        checks += _guard(name, fix or "see the message", probe)
    checks.append(Check("Line of Business restrictions", None,
                        "the API cannot report them: an API user outside a Line of Business silently does not see "
                        "its invoices", "put the API user's security level in every Line of Business"))
    return checks


def xero_checks(rt: Any, secret: dict[str, Any]) -> list[Check]:
    token = secret.get("token_set") or {}
    if not token:
        return [Check("Xero connection", False, "not connected", "`autoxero connect xero` (with --stack: open the "
                                                                  "link it prints)")]
    checks = _guard("Xero organisation", "reconnect with `autoxero connect xero`", lambda: Check(
        "Xero organisation", True, f"{rt.xero_client(max_retries=0).organisation().Name} answers"))
    last = secret.get("refreshed_at") or secret.get("connected_at")
    if last and rt.settings.xero.kind != "custom_connection":
        idle = (time.time() - float(last)) / 86400
        left = XERO_REFRESH_DAYS - idle
        checks.append(Check("Xero token age", left > 15, f"last refreshed {idle:.1f} days ago; {left:.0f} days "
                            "before Xero drops it unused", "check that the schedules run, or reconnect"))
    granted = set(str(token.get("scope", "")).split())
    needed = set(rt.settings.xero.scope_list)
    missing = sorted(needed - granted)
    checks.append(Check("Xero scopes", not missing, "every scope autoxero needs is granted" if not missing else
                        f"missing {', '.join(missing)}", "reconnect (`autoxero connect xero`) so the new scopes "
                                                         "are granted"))
    try:  # the webhook key lives in its own secret, the only one the internet-facing receiver may read
        has_key = bool(rt.secrets.read(rt.config.webhook_secret_id("xero"), fresh=True).get("webhook_key"))
    except Exception:
        has_key = False
    checks.append(Check("Xero webhook key", has_key, "stored" if has_key else "not stored",
                        "copy the key from the Xero app's Webhooks page: `autoxero credentials set xero`"))
    intent = secret.get("intent_to_receive_at")
    checks.append(Check("Xero intent-to-receive", True if intent else None,
                        f"passed at {time.strftime('%Y-%m-%d %H:%M', time.gmtime(float(intent)))} UTC" if intent
                        else "not recorded by this stack; the Xero app's Webhooks page shows whether it passed",
                        "in the Xero app, save the webhook URL (stack output XeroWebhookUrl) and send the test"))
    return checks


def aws_checks(rt: Any, target: Any) -> list[Check]:
    checks: list[Check] = []
    autotask = rt.secrets.read(rt.config.autotask_secret_id)
    missing = [k for k in ("username", "secret", "integration_code") if not autotask.get(k)]
    checks.append(Check("Autotask secret", not missing, "set" if not missing else f"missing {', '.join(missing)}",
                        "`autoxero credentials set autotask`"))
    xero = rt.secrets.read(rt.config.xero_secret_id)
    missing = [k for k in ("client_id", "client_secret") if not xero.get(k)]
    if rt.settings.xero.kind == "oauth":
        checks.append(Check("Xero secret", not missing, "set" if not missing else f"missing {', '.join(missing)}",
                            "`autoxero credentials set xero`"))
    checks += _guard("alarm e-mail", "confirm the subscription from the e-mail AWS sent", lambda: _alarm_email(rt))
    checks += _guard("schedules", "redeploy with SchedulesEnabled=ENABLED", lambda: _schedules(target))
    control = rt.state.control.status()
    checks.append(Check("stack", not control.paused, control.describe(),
                        "push checked settings, try a dry run, then `autoxero resume`"))
    return checks


def _alarm_email(rt: Any) -> Check:
    import boto3

    topic = rt.config.alert_topic_arn
    if not topic:
        return Check("alarm e-mail", False, "the stack has no alarm topic", "redeploy with AlarmEmail set")
    subscriptions = boto3.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    e_mails = [s for s in subscriptions if s.get("Protocol") == "email"]
    pending = [s["Endpoint"] for s in e_mails if s.get("SubscriptionArn") == "PendingConfirmation"]
    if not e_mails:
        return Check("alarm e-mail", False, "no e-mail subscription", "redeploy with AlarmEmail set")
    return Check("alarm e-mail", not pending, "confirmed" if not pending else f"{', '.join(pending)} has not "
                 "confirmed", "open the 'AWS Notification - Subscription Confirmation' e-mail and confirm")


def _schedules(target: Any) -> Check:
    if target.is_local:
        return Check("schedules", None, "the sandbox has no schedules: `autoxero sync FLOW` runs a flow")
    import boto3

    resources = boto3.client("cloudformation").list_stack_resources(StackName=target.name)["StackResourceSummaries"]
    names = [r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::Scheduler::Schedule"]
    scheduler = boto3.client("scheduler")
    states = {name: scheduler.get_schedule(Name=name)["State"] for name in names}
    disabled = sorted(n for n, s in states.items() if s != "ENABLED")
    return Check("schedules", bool(states) and not disabled,
                 f"{len(states)} enabled" if not disabled else f"disabled: {', '.join(disabled)}",
                 "redeploy with SchedulesEnabled=ENABLED")


def webhook_checks(rt: Any, target: Any) -> list[Check]:
    """Autotask's Company and Contact webhooks point at this stack and are active and ready."""
    from autoxero.autotask.webhook_registry import KINDS, report
    from autoxero_cli.webhooks_cli import stack_webhook_url

    url = stack_webhook_url(target)
    register = "`autoxero webhooks register autotask`" + ("" if target.is_local else f" --stack {target.name}")

    def probe() -> Check:
        if not url:
            return Check("Autotask webhooks", False, "the stack has no AutotaskWebhookUrl output",
                         "deploy the current template.yaml")
        rows = report(rt.autotask_client(), url)
        missing = [k.resource for k in KINDS if not any(r.kind == k.resource and r.ours and r.active and r.ready
                                                        for r in rows)]
        return Check("Autotask webhooks", not missing, "Company and Contact webhooks point here, active and ready"
                     if not missing else f"not active and ready here: {', '.join(missing)} (the schedules still "
                     "catch every change, later)", register)

    return _guard("Autotask webhooks", register, probe)


def run_doctor(target: Any) -> list[Check]:
    rt = target.runtime()
    secret = rt.secrets.read(rt.config.xero_secret_id)
    return aws_checks(rt, target) + autotask_checks(rt) + webhook_checks(rt, target) + xero_checks(rt, secret)
