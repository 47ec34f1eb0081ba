"""Keeps secret values out of logs, exception messages and the ledger.

Every secret value the process reads is registered here; `redact` masks any registered value in text,
and `RedactingFilter` applies it to every log record. Code still never logs secrets on purpose: this is
the net under that rule, not the rule.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
_MIN_SECRET_LENGTH = 6  # shorter values are not distinctive enough to mask without mangling text

_lock = threading.Lock()
_secrets: set[str] = set()

SECRET_KEYS = frozenset(
    {"secret", "client_secret", "access_token", "refresh_token", "id_token", "webhook_key",
     "webhook_secret", "password", "setup_token", "code"}
)


def register_secret(value: object) -> None:
    if isinstance(value, str) and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def register_secrets_in(document: Mapping[str, Any], keys: Iterable[str] = SECRET_KEYS) -> None:
    """Register the values under secret-looking keys, at any depth."""
    wanted = set(keys)
    for key, value in document.items():
        if isinstance(value, Mapping):
            register_secrets_in(value, wanted)
        elif key in wanted:
            register_secret(value)


def redact(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: (MASK if k in SECRET_KEYS and v else redact_value(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        elif isinstance(record.msg, Mapping):
            record.msg = redact_value(record.msg)
        if record.args:
            record.args = tuple(redact_value(a) for a in record.args) if isinstance(record.args, tuple) else record.args
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS:
                record.__dict__[key] = redact_value(value)
        return True


_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
