"""The JSON documents kept in the stack's secrets, typed.

The Xero secret holds the app's credentials, the token set Xero issued and which organisation the stack is
bound to; the Autotask secret holds the API user. Unknown keys are kept (`extra="allow"`) so a document
written by a newer release, or by the token refresh, survives a read-modify-write by this one.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from autoxero.redaction import register_secret


class TokenSet(BaseModel):
    """What Xero's token endpoint answered, plus `expires_at` (epoch seconds) computed when it arrived."""

    model_config = ConfigDict(extra="allow")

    access_token: str = ""
    refresh_token: str = ""
    expires_at: float = 0.0


class XeroSecret(BaseModel):
    model_config = ConfigDict(extra="allow")

    client_id: str = ""
    client_secret: str = ""
    token_set: TokenSet | None = None
    tenant_id: str | None = None
    tenant_name: str | None = None
    connected_at: float | None = None
    refreshed_at: float | None = None
    approval_started_ms: int | None = None  # when the approval the stack is bound to started (a later one wins)

    @property
    def connected(self) -> bool:
        """Whether Xero ever issued this stack a token set."""
        return self.token_set is not None and bool(self.token_set.access_token or self.token_set.refresh_token)

    @property
    def last_refreshed(self) -> float | None:
        """When the token set last changed (a refresh, else the connection): Xero's 60 days run from here."""
        last = self.refreshed_at or self.connected_at
        return float(last) if last else None

    def document(self) -> dict[str, Any]:
        """The JSON object to store: only what is set, unknown keys kept."""
        return self.model_dump(mode="json", exclude_none=True)


class AutotaskCredentials(BaseModel):
    """The Autotask API user (the stack's Autotask secret). The secret never shows in a repr or log."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    username: str = Field(min_length=1)
    secret: SecretStr
    integration_code: str = Field(min_length=1)

    def model_post_init(self, context: Any, /) -> None:
        register_secret(self.secret.get_secret_value())

    def headers(self) -> dict[str, str]:
        return {"ApiIntegrationCode": self.integration_code, "UserName": self.username,
                "Secret": self.secret.get_secret_value()}
