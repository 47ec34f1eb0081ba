"""Where moto falls short of the AWS behaviour autoxero relies on, made true here (imported by every local stack).

DynamoDB applies a conditional write atomically: the condition is evaluated against the item as it is and the
write happens, or not, as one operation ("Condition expressions ... the write succeeds only if the condition
evaluates to true", and concurrent conditional writes to one item never both succeed — the basis of
optimistic locking: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/DynamoDBMapper.OptimisticLocking.html).
moto evaluates the condition and then writes with no lock between, so two threads can both pass the check: two
holders of one lease, two refreshes of one token. Every item write and read in moto's DynamoDB backend is
serialised here, which is what the service guarantees per item.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()
_OPERATIONS = ("put_item", "update_item", "delete_item", "get_item", "batch_write_item", "transact_write_items")


def atomic_dynamodb_items() -> None:
    """Idempotent: wraps moto's DynamoDB item operations in one lock."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in _OPERATIONS:
        original = getattr(DynamoDBBackend, name)
        if getattr(original, "_autoxero_atomic", False):
            continue

        @functools.wraps(original)
        def atomic(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _LOCK:
                return __original(self, *args, **kwargs)

        atomic._autoxero_atomic = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, atomic)
