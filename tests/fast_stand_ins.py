"""What moto spends on every test's stack that answers nothing: `install()`, or load it as a pytest plugin.

Each test gets a fresh moto and a fresh stack (tests/conftest.py's `aws` and `stack`, the flows' `local`); the
answers stay exactly moto's. Three costs are paid once per process instead of once per test:

- moto replaces boto3's default session at every `mock_aws()` start (its `core.reset_boto3_session` setting,
  moto/core/models.py `MockAWS.start`, so that a session made before the mock cannot carry real credentials).
  A new session parses every service's model JSON again for its first client (~40 ms a service). The test
  processes hold fake credentials from the start (tests/conftest.py), so the session is kept.
- moto's Cognito parses the same bundled signing key (moto/cognitoidp/resources/jwks-private.json) for every user
  pool (`CognitoIdpUserPool.__init__`, ~0.25 s); it is parsed once and shared, as the file is.
- moto's KMS generates a 2048-bit RSA key for every key it creates, a symmetric one included
  (moto/kms/utils.py `generate_private_key`, the `else` branch; ~0.1 s). AWS holds no RSA key for a symmetric key
  and refuses Sign/Verify/GetPublicKey on it, and nothing here calls them, so symmetric keys share one.
"""

from __future__ import annotations

import functools
from typing import Any


def install() -> None:
    """Idempotent."""
    from joserfc import jwk
    from moto.cognitoidp import models as cognito
    from moto.core.config import default_user_config
    from moto.kms import models as kms

    default_user_config.setdefault("core", {})["reset_boto3_session"] = False

    if not getattr(cognito.jwk, "_autoxero_shared", False):
        parsed: dict[str, Any] = {}

        class SharedRSAKey:
            @staticmethod
            def import_key(value: Any, *args: Any, **kwargs: Any) -> Any:
                key = repr((value, args, kwargs))
                if key not in parsed:
                    parsed[key] = jwk.RSAKey.import_key(value, *args, **kwargs)
                return parsed[key]

        cognito.jwk = type("SharedJwk", (), {"RSAKey": SharedRSAKey, "_autoxero_shared": True})

    if not getattr(kms.generate_private_key, "_autoxero_shared", False):
        generate = kms.generate_private_key
        symmetric = functools.cache(lambda: generate("SYMMETRIC_DEFAULT"))

        def generate_private_key(key_spec: str) -> Any:
            return symmetric() if key_spec == "SYMMETRIC_DEFAULT" else generate(key_spec)

        generate_private_key._autoxero_shared = True  # type: ignore[attr-defined]
        kms.generate_private_key = generate_private_key


def pytest_configure(config: Any) -> None:
    install()
