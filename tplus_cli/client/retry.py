"""Bounded, jittered exponential backoff for idempotent calls (reads and cancels only).

Creates and replaces never pass through here: a lost answer to a create is resolved by
looking the order id up (api.py), never by sending it again.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from tplus_cli.client.errors import ClientError, RateLimited

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry; `sleep` and `rng` are injectable for tests.

    `settle_delay` is waited once before a lost create/replace is looked up, so that a
    request still in flight at the venue has landed before we conclude "not placed".
    """

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    settle_delay: float = 0.5  # wait before looking up a create whose reply was lost
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)
    rng: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, attempt: int, error: ClientError) -> float:
        """Seconds to wait before retry number `attempt` (1-based) after `error`."""
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * self.rng())  # "equal jitter": never zero, never above cap


NO_RETRY = RetryPolicy(attempts=1)


async def retrying(policy: RetryPolicy, call: Callable[[], Awaitable[T]]) -> T:
    """Run `call`, retrying errors marked retryable up to `policy.attempts` times in total."""
    attempt = 1
    while True:
        try:
            return await call()
        except ClientError as error:
            if not error.retryable or attempt >= policy.attempts:
                raise
            await policy.sleep(policy.delay(attempt, error))
            attempt += 1
