"""A small shared HTTP layer for the public data services: timeouts, retries, polite pacing.

Public services fail in passing: KNMI's script service answers 503 while it restarts, BRO
answers 429 when asked too fast, a connection drops. Such an answer
is tried again after an exponentially growing wait with jitter (so that many clients that
failed together do not come back together), and a ``Retry-After`` header from the server
wins over our own guess. Other answers (400, 401, 403, 404) are not tried again: asking once
more will not change them. This is the only retry layer: the Prefect tasks that fetch
(``pipelines/ingest/flows.py``) do not retry on top of it.

After the last attempt :class:`ServiceError` says which URL failed and how. A URL may carry
secrets (a pre-signed download link holds a signature), so messages show it through
:func:`redact_url`; request headers (the API key) never appear in a message.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

log = logging.getLogger(__name__)

#: Answers that mean "not now" rather than "no": tried again.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

#: Query parameters whose values are secrets (pre-signed URLs, tokens), hidden in messages:
#: names equal to one of the first set or holding a word of the second.
_SECRET_NAMES = frozenset({"key", "sig", "auth", "code"})
_SECRET_WORDS = ("signature", "token", "credential", "password", "secret", "apikey", "api_key", "api-key")


def _is_secret(name: str) -> bool:
    name = name.lower()
    return name in _SECRET_NAMES or any(word in name for word in _SECRET_WORDS)

USER_AGENT = "droogte (drought decision support for Dutch water boards)"


class ServiceError(RuntimeError):
    """A service request failed for good, or its answer is not what the service promises.

    ``url`` is the redacted URL, ``status`` the last HTTP status (``None`` when no answer
    came: connection refused, timeout), ``attempts`` how often it was tried.
    """

    def __init__(self, url: str, message: str, *, status: int | None = None, attempts: int = 1):
        self.url = redact_url(url)
        self.status = status
        self.attempts = attempts
        self.message = message
        super().__init__(f"{self.url}: {message}")


class ServiceResponseError(ServiceError):
    """The service answered 200 but the body is not data: an HTML error page, cut-off XML or JSON."""


@dataclass(frozen=True)
class RetryPolicy:
    """How patiently a client asks.

    The wait before attempt ``n + 1`` is ``backoff_s * 2 ** (n - 1)``, at most
    ``max_backoff_s``, shortened by up to ``jitter`` (a fraction) at random; a server's
    ``Retry-After`` replaces it, but one longer than ``max_retry_after_s`` ends the attempts
    at once (a quota that resets in an hour is not worth blocking a daily run for).
    ``timeout_s`` bounds connecting and each read of the answer.
    """

    attempts: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    jitter: float = 0.5
    max_retry_after_s: float = 300.0
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be >= 1, got {self.attempts}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"RetryPolicy.jitter must be within 0-1, got {self.jitter}")
        if self.backoff_s < 0 or self.timeout_s <= 0:
            raise ValueError("RetryPolicy.backoff_s must be >= 0 and timeout_s > 0")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        wait = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return wait * (1 - self.jitter * rng.random())


def redact_url(url: str) -> str:
    """``url`` without user info and with the values of secret-looking query parameters hidden."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    query = [
        (name, "REDACTED" if _is_secret(name) else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="/:"), ""))


def retry_after_s(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delay-seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class HttpClient:
    """An HTTP client with the retry policy, optional pacing and redacted errors.

    ``min_interval_s`` spaces requests at least that far apart (BRO asks for about 3
    requests per second: ``min_interval_s=0.34``). ``secrets`` are strings that must never
    reach a message (an API key), replaced by ``***`` should a server echo one back.
    ``sleep`` and ``seed`` exist so tests can watch the waits and repeat the jitter.
    """

    def __init__(
        self,
        *,
        policy: RetryPolicy = RetryPolicy(),
        headers: Mapping[str, str] | None = None,
        min_interval_s: float = 0.0,
        secrets: Iterable[str] = (),
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.policy = policy
        self.min_interval_s = min_interval_s
        self._secrets = tuple(s for s in secrets if s)
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._last_request = -float("inf")
        self._client = httpx.Client(
            timeout=httpx.Timeout(policy.timeout_s),
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            follow_redirects=True,
        )

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def hide(self, secret: str) -> None:
        """Keep ``secret`` (an API key fetched later) out of every message from now on."""
        if secret and secret not in self._secrets:
            self._secrets = (*self._secrets, secret)

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send the request until it succeeds (2xx) or the policy gives up; return the response.

        Raises :class:`ServiceError` naming the redacted URL, the last status or network
        error, and the number of attempts.
        """
        policy = self.policy
        for attempt in range(1, policy.attempts + 1):
            self._pace()
            status: int | None = None
            wait_asked: float | None = None
            try:
                response = self._client.request(method, url, params=params, data=data, headers=headers)
            except httpx.TimeoutException as exc:
                problem = f"no answer within {policy.timeout_s:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__}: {self._scrub(str(exc))})"
            else:
                if response.is_success:
                    return response
                status = response.status_code
                problem = f"HTTP {status} {response.reason_phrase}{self._snippet(response)}"
                if status not in RETRY_STATUSES:
                    raise self._error(url, f"{method} answered {problem}", status, attempt)
                wait_asked = retry_after_s(response.headers.get("Retry-After"))
                if wait_asked is not None and wait_asked > policy.max_retry_after_s:
                    raise self._error(
                        url, f"{method} answered {problem}; the service asks to wait "
                        f"{wait_asked:g} s, more than the {policy.max_retry_after_s:g} s allowed",
                        status, attempt)
            if attempt == policy.attempts:
                raise self._error(url, f"{method} failed after {attempt} attempt(s): {problem}", status, attempt)
            wait = policy.backoff(attempt, self._rng)
            if wait_asked is not None:
                wait = wait_asked
            log.warning("%s %s: %s; attempt %d of %d again in %.2f s",
                        method, redact_url(url), problem, attempt + 1, policy.attempts, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _pace(self) -> None:
        if self.min_interval_s > 0:
            gap = time.monotonic() - self._last_request
            if gap < self.min_interval_s:
                self._sleep(self.min_interval_s - gap)
        self._last_request = time.monotonic()

    def _snippet(self, response: httpx.Response) -> str:
        text = " ".join(response.text.split())[:200]
        return f": {self._scrub(text)}" if text else ""

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _error(self, url: str, message: str, status: int | None, attempts: int) -> ServiceError:
        return ServiceError(url, self._scrub(message), status=status, attempts=attempts)


def looks_like_html(body: bytes) -> bool:
    """True for an HTML page (a proxy's or portal's error page served with status 200)."""
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head
