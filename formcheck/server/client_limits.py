"""Limits per client: request rates, uploads in progress, live sessions.

A client is its peer address (``client_key``: what uvicorn reports, which honours
``--forwarded-allow-ips`` behind a reverse proxy). Rates are token buckets; the state of at
most ``max_tracked_clients`` clients is kept, the least recently seen forgotten first, so a
flood of addresses cannot grow the server's memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from formcheck.server.config import ClientLimits

UNKNOWN_CLIENT = "unknown"
HTTP_TOO_MANY_REQUESTS = 429
SECONDS_PER_HOUR = 3600.0
Clock = Callable[[], float]


def client_key(scope: Scope) -> str:
    """Who is asking: the peer address (one key for all its connections)."""
    client = scope.get("client")
    return f"ip:{client[0]}" if client else UNKNOWN_CLIENT


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_s: float


class RateLimiter:
    """A token bucket per key: ``rate_per_s`` sustained, ``burst`` at once."""

    def __init__(
        self, rate_per_s: float, burst: int, max_keys: int, clock: Clock = time.monotonic
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take one token: 0.0 when allowed, else the seconds until one is available."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(float(self.burst), now)
            bucket.tokens = min(
                float(self.burst), bucket.tokens + (now - bucket.updated_s) * self.rate_per_s
            )
            bucket.updated_s = now
            self._buckets[key] = bucket
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate_per_s

    def __len__(self) -> int:
        return len(self._buckets)


class InProgress:
    """Counts things in progress (uploads), in total and per key, under caps."""

    def __init__(self, max_total: int, max_per_key: int) -> None:
        self.max_total = max_total
        self.max_per_key = max_per_key
        self._counts: dict[str, int] = {}
        self._total = 0
        self._lock = threading.Lock()

    def try_enter(self, key: str) -> bool:
        with self._lock:
            if self._total >= self.max_total or self._counts.get(key, 0) >= self.max_per_key:
                return False
            self._counts[key] = self._counts.get(key, 0) + 1
            self._total += 1
            return True

    def leave(self, key: str) -> None:
        with self._lock:
            left = self._counts.get(key, 0) - 1
            if left > 0:
                self._counts[key] = left
            else:
                self._counts.pop(key, None)
            self._total = max(0, self._total - 1)

    @contextmanager
    def entered(self, key: str) -> Iterator[None]:
        """Use after a successful ``try_enter``: leaves at the end."""
        try:
            yield
        finally:
            self.leave(key)

    @property
    def total(self) -> int:
        with self._lock:
            return self._total


def too_many(detail: str, retry_after_s: float, code: str = "rate_limited") -> JSONResponse:
    """429 with Retry-After (whole seconds, at least 1) and a JSON reason."""
    return JSONResponse(
        {"detail": detail, "code": code},
        HTTP_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(max(1, math.ceil(retry_after_s)))},
    )


class ClientRateMiddleware:
    """429 for a client over its request rate (HTTP requests and socket handshakes)."""

    def __init__(self, app: ASGIApp, limits: ClientLimits, clock: Clock = time.monotonic) -> None:
        self.app = app
        self.limiter = RateLimiter(
            limits.requests_per_s, limits.request_burst, limits.max_tracked_clients, clock
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        wait_s = self.limiter.acquire(client_key(scope))
        if wait_s <= 0.0:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1013, "reason": "rate_limited"})
            return
        response = too_many(
            f"Too many requests from your address; wait {math.ceil(wait_s)} s and try again.",
            wait_s,
        )
        await response(scope, receive, send)


class UploadGate:
    """What an upload must pass before its body is read: the hourly rate of its client and
    the caps on uploads in progress."""

    def __init__(self, limits: ClientLimits, clock: Clock = time.monotonic) -> None:
        self.limits = limits
        self.in_progress = InProgress(
            limits.max_uploads_in_progress, limits.max_uploads_in_progress_per_client
        )
        self.hourly = RateLimiter(
            limits.uploads_per_hour / SECONDS_PER_HOUR,
            limits.uploads_per_hour,
            limits.max_tracked_clients,
            clock,
        )
        self.keys_in_progress: set[tuple[str, str]] = set()  # (client, idempotency key)
        self._lock = threading.Lock()

    def claim_key(self, client: str, key: str) -> bool:
        """Mark an idempotency key as being uploaded; False when it already is."""
        with self._lock:
            if (client, key) in self.keys_in_progress:
                return False
            self.keys_in_progress.add((client, key))
            return True

    def release_key(self, client: str, key: str) -> None:
        with self._lock:
            self.keys_in_progress.discard((client, key))
