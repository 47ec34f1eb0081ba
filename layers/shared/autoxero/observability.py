"""One Logger and one Metrics per process, both safe to import from any module.

Tracer is left out on purpose: it costs about 400 ms of cold start (see reference/toolchain.md) for traces
that the ledger already gives us.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from autoxero.redaction import RedactingFilter

logger = Logger(service="autoxero")
logger.addFilter(RedactingFilter())
for _handler in logger.handlers:
    _handler.addFilter(RedactingFilter())

metrics = Metrics(namespace="Autoxero", service="autoxero")
