"""Secrets Manager: JSON secrets (Autotask credentials; Xero app credentials and token set).

Built on Powertools Parameters' SecretsProvider: reads are cached briefly (a warm Lambda re-reads every
few seconds at most); `read(fresh=True)` bypasses the cache — what a token refresh needs after another
invocation rotated the token set — and a write is followed by a forced re-read. Every value read is
registered for redaction.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from autoxero.redaction import register_secret_response, register_secrets_in
from autoxero.secrets.documents import XeroSecret

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

DEFAULT_MAX_AGE = 5


class SecretNotFound(RuntimeError):
    pass


class SecretStore:
    def __init__(self, client: SecretsManagerClient | None = None, max_age: int = DEFAULT_MAX_AGE) -> None:
        client = client or boto3.client("secretsmanager")
        # botocore logs response bodies at DEBUG before this store sees them: register the values first.
        client.meta.events.register("before-parse.secrets-manager.GetSecretValue", register_secret_response,
                                    unique_id="autoxero-register-secret-response")
        self._provider = SecretsProvider(boto3_client=client)
        self._max_age = max_age

    def read(self, secret_id: str, *, fresh: bool = False) -> dict[str, Any]:
        try:
            value = self._provider.get(secret_id, max_age=self._max_age, transform="json", force_fetch=fresh)
        except TransformParameterError:
            raise ValueError(f"secret {secret_id} is not a JSON document") from None
        except GetParameterError as err:
            if "ResourceNotFoundException" in str(err):
                raise SecretNotFound(f"secret {secret_id} does not exist") from None
            raise
        if not isinstance(value, dict):
            raise ValueError(f"secret {secret_id} is not a JSON object")
        register_secrets_in(value)
        return dict(value)

    def xero(self, secret_id: str, *, fresh: bool = False) -> XeroSecret:
        """The Xero secret, typed."""
        return XeroSecret.model_validate(self.read(secret_id, fresh=fresh))

    def write(self, secret_id: str, value: dict[str, Any]) -> None:
        register_secrets_in(value)
        self._provider.set(secret_id, json.dumps(value, sort_keys=True))
        self.read(secret_id, fresh=True)

    def update(self, secret_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Read fresh, merge `changes`, write: for fields other than the token set (which has a lease)."""
        value = {**self.read(secret_id, fresh=True), **changes}
        self.write(secret_id, value)
        return value
