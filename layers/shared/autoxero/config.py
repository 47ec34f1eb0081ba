"""Where this deployment's resources and the two APIs are: read once from the environment.

In AWS the template sets these; locally the invoker points them at moto and the sandbox. Only endpoints
differ between the two, never code paths.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

XERO_API_URL = "https://api.xero.com/api.xro/2.0"
XERO_IDENTITY_URL = "https://api.xero.com"
XERO_LOGIN_URL = "https://login.xero.com/identity/connect/authorize"
XERO_TOKEN_URL = "https://identity.xero.com/connect/token"  # noqa: S105 (a URL, not a password)
AUTOTASK_ZONE_LOOKUP_URL = "https://webservices.autotask.net/atservicesrest"


class ConfigurationError(RuntimeError):
    """The deployment is missing something it needs; the message says what."""


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    customer: str
    table_name: str
    xero_secret_id: str
    autotask_secret_id: str
    alert_topic_arn: str | None
    events_queue_url: str | None
    ledger_retention_days: int
    xero_api_url: str
    xero_identity_url: str
    xero_login_url: str
    xero_token_url: str
    autotask_zone_lookup_url: str
    # What each internet-facing webhook receiver reads instead of the API credentials (template.yaml).
    xero_webhook_secret_id: str | None = None
    stack: str = "local"  # the CloudFormation stack (a metric dimension: stacks share a region's namespace)
    autotask_webhook_secret_id: str | None = None

    def webhook_secret_id(self, system: str) -> str:
        """The secret holding `system`'s webhook signing key (and, for Xero, the connected tenant id)."""
        found = self.xero_webhook_secret_id if system == "xero" else self.autotask_webhook_secret_id
        if not found:
            raise ConfigurationError(f"environment variable AUTOXERO_{system.upper()}_WEBHOOK_SECRET is not set")
        return found

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> RuntimeConfig:
        e = dict(os.environ if env is None else env)

        def required(name: str) -> str:
            value = e.get(name, "").strip()
            if not value:
                raise ConfigurationError(f"environment variable {name} is not set")
            return value

        return cls(
            customer=e.get("AUTOXERO_CUSTOMER", "local"),
            table_name=required("AUTOXERO_TABLE"),
            xero_secret_id=required("AUTOXERO_XERO_SECRET"),
            autotask_secret_id=required("AUTOXERO_AUTOTASK_SECRET"),
            alert_topic_arn=e.get("AUTOXERO_ALERT_TOPIC") or None,
            events_queue_url=e.get("AUTOXERO_EVENTS_QUEUE_URL") or None,
            ledger_retention_days=int(e.get("AUTOXERO_LEDGER_RETENTION_DAYS", "400")),
            xero_api_url=e.get("AUTOXERO_XERO_API_URL", XERO_API_URL).rstrip("/"),
            xero_identity_url=e.get("AUTOXERO_XERO_IDENTITY_URL", XERO_IDENTITY_URL).rstrip("/"),
            xero_login_url=e.get("AUTOXERO_XERO_LOGIN_URL", XERO_LOGIN_URL),
            xero_token_url=e.get("AUTOXERO_XERO_TOKEN_URL", XERO_TOKEN_URL),
            autotask_zone_lookup_url=e.get("AUTOXERO_AUTOTASK_ZONE_URL", AUTOTASK_ZONE_LOOKUP_URL).rstrip("/"),
            xero_webhook_secret_id=e.get("AUTOXERO_XERO_WEBHOOK_SECRET") or None,
            stack=e.get("AUTOXERO_STACK") or "local",
            autotask_webhook_secret_id=e.get("AUTOXERO_AUTOTASK_WEBHOOK_SECRET") or None,
        )
