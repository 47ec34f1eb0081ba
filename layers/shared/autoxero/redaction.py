"""Keeps secret values out of logs, exception messages and the ledger.

Every secret value the process reads is registered here; `redact` masks any registered value in text,
and `RedactingFilter` applies it to every log record. Code still never logs secrets on purpose: this is
the net under that rule, not the rule.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
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


class RedactedFormatter(logging.Formatter):
    """Redacts what another formatter wrote: the whole line, tracebacks included."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def _redacting_record_factory(previous: Any) -> Any:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = previous(*args, **kwargs)
        _FILTER.filter(record)
        if record.exc_info and not record.exc_text:  # handlers print exc_text as the record's traceback
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    factory.autoxero_redacts = True  # type: ignore[attr-defined]
    return factory


_FILTER = RedactingFilter()


def redact_every_record() -> None:
    """Every record any logger in the process creates (botocore, urllib3, httpx and the rest propagate to
    the root logger, where the Lambda runtime's handler writes them) is redacted as it is created, and each
    root handler's output is redacted again after formatting, where its formatter renders a traceback."""
    previous = logging.getLogRecordFactory()
    if not getattr(previous, "autoxero_redacts", False):
        logging.setLogRecordFactory(_redacting_record_factory(previous))
    for handler in logging.getLogger().handlers:
        if not isinstance(handler.formatter, RedactedFormatter):
            handler.setFormatter(RedactedFormatter(handler.formatter or logging.Formatter()))


def register_secret_response(response_dict: dict[str, Any], **_: Any) -> None:
    """A botocore `before-parse` handler for GetSecretValue: registers the secret's values before botocore's
    DEBUG log prints the response body ('Response body: ...', botocore/parsers.py)."""
    try:
        body = json.loads(response_dict.get("body") or b"{}")
        value = json.loads(body.get("SecretString") or "{}")
    except (ValueError, TypeError, AttributeError):
        return
    if isinstance(value, Mapping):
        register_secrets_in(value)
