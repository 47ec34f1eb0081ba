"""One Logger and one Metrics per process, both safe to import from any module.

Tracer is left out on purpose: it costs about 400 ms of cold start (see docs/toolchain.md) for traces
that the ledger already gives us.
"""

from __future__ import annotations

import logging
import sys

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from autoxero.redaction import RedactingFilter, redact, redact_every_record


class _RedactedJsonFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON line, redacted as a whole: the `exception` and `stack_trace` fields it renders from a
    traceback are covered too, not only the message and extra keys."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _CurrentStream:
    """Writes to whatever sys.stdout (or stderr) is now (Lambda's, or a test runner's), not to the one at
    import time."""

    def __init__(self, name: str = "stdout") -> None:
        self.name = name

    def write(self, text: str) -> int:
        return int(getattr(sys, self.name).write(text))

    def flush(self) -> None:
        getattr(sys, self.name).flush()


_handler = logging.StreamHandler(_CurrentStream())
_handler.addFilter(RedactingFilter())
logger = Logger(service="autoxero", logger_handler=_handler, logger_formatter=_RedactedJsonFormatter())
logger.addFilter(RedactingFilter())
redact_every_record()

metrics = Metrics(namespace="Autoxero", service="autoxero")


def logs_for_a_terminal(level: str | None) -> None:
    """The command line: results own stdout, so logs go to stderr, and only when asked for (`-v`)."""
    _handler.setStream(_CurrentStream("stderr"))
    _handler.setLevel(level or logging.CRITICAL + 1)
    if level:
        logger.setLevel(level)
