"""The Autotask PSA adapter: REST client, query builder, errors, the stack-wide thread limiter, wire models."""

from autoxero.autotask.client import (
    AutotaskClient,
    AutotaskCredentials,
    DynamoZoneCache,
    MemoryZoneCache,
    ZoneCache,
)
from autoxero.autotask.errors import (
    AutotaskAuthError,
    AutotaskBusy,
    AutotaskError,
    AutotaskNotFound,
    AutotaskPermissionError,
    AutotaskThrottled,
    AutotaskUnavailable,
    AutotaskValidationError,
)
from autoxero.autotask.limiter import DynamoLimiter, Limiter, LocalLimiter, UnlimitedLimiter
from autoxero.autotask.query import Filter, Query, QueryError, chunked_in, everything

__all__ = [
    "AutotaskAuthError", "AutotaskBusy", "AutotaskClient", "AutotaskCredentials", "AutotaskError",
    "AutotaskNotFound", "AutotaskPermissionError", "AutotaskThrottled", "AutotaskUnavailable",
    "AutotaskValidationError", "DynamoLimiter", "DynamoZoneCache", "Filter", "Limiter", "LocalLimiter",
    "MemoryZoneCache", "Query", "QueryError", "UnlimitedLimiter", "ZoneCache", "chunked_in", "everything",
]
