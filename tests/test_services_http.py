"""The shared HTTP layer against a real loopback server: retries, Retry-After, timeouts, errors."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from test_services_fake_server import Reply, fake_service  # noqa: F401 (fixture)

from pipelines.ingest.services.http import HttpClient, RetryPolicy, ServiceError, redact_url, retry_after_s

FAST = RetryPolicy(attempts=4, backoff_s=0.01, max_backoff_s=0.05, timeout_s=2.0)


class RecordingSleep:
    """Really sleeps, and remembers how long: the waits a client chose can be checked."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds)


def test_500_then_success_is_retried_and_returns_the_good_answer(fake_service):
    fake_service.script("/data", Reply(500, "oops"), Reply(502, "bad gateway"), Reply(200, "good"))
    sleep = RecordingSleep()
    with HttpClient(policy=FAST, sleep=sleep, seed=1) as client:
        response = client.get(fake_service.url("/data"))
    assert response.text == "good"
    assert len(fake_service.requests_to("/data")) == 3
    # exponential: the second wait is drawn from a range twice as high as the first
    assert 0.005 <= sleep.waits[0] <= 0.01 and 0.01 <= sleep.waits[1] <= 0.02


def test_429_retry_after_is_honoured(fake_service):
    fake_service.script("/quota", Reply(429, "slow down", headers={"Retry-After": "1"}), Reply(200, "ok"))
    sleep = RecordingSleep()
    with HttpClient(policy=FAST, sleep=sleep) as client:
        assert client.get(fake_service.url("/quota")).text == "ok"
    assert sleep.waits == [1.0]
    first, second = fake_service.times
    assert second - first >= 0.95


def test_retry_after_longer_than_allowed_fails_at_once_naming_url_and_status(fake_service):
    fake_service.script("/quota", Reply(429, "quota used", headers={"Retry-After": "3600"}))
    with HttpClient(policy=FAST) as client, pytest.raises(ServiceError) as caught:
        client.get(fake_service.url("/quota"))
    assert caught.value.status == 429
    assert fake_service.url("/quota") in str(caught.value) and "3600" in str(caught.value)
    assert len(fake_service.requests) == 1


def test_persistent_503_fails_after_the_last_attempt(fake_service):
    fake_service.script("/down", Reply(503, "maintenance"))
    with HttpClient(policy=FAST) as client, pytest.raises(ServiceError) as caught:
        client.post(fake_service.url("/down"), data={"a": "1"})
    error = caught.value
    assert (error.status, error.attempts) == (503, 4)
    assert "HTTP 503" in str(error) and "after 4 attempt(s)" in str(error) and "maintenance" in str(error)
    assert len(fake_service.requests) == 4


def test_404_is_not_retried(fake_service):
    with HttpClient(policy=FAST) as client, pytest.raises(ServiceError, match="HTTP 404"):
        client.get(fake_service.url("/missing"))
    assert len(fake_service.requests) == 1


def test_a_server_slower_than_the_timeout_is_retried_then_reported(fake_service):
    fake_service.script("/slow", Reply(200, "late", delay_s=0.6))
    policy = RetryPolicy(attempts=2, backoff_s=0.01, timeout_s=0.2)
    with HttpClient(policy=policy) as client, pytest.raises(ServiceError) as caught:
        client.get(fake_service.url("/slow"))
    assert caught.value.status is None
    assert "no answer within 0.2 s" in str(caught.value) and fake_service.url("/slow") in str(caught.value)
    assert len(fake_service.requests) == 2


def test_slow_once_then_fast_succeeds(fake_service):
    fake_service.script("/slow", Reply(200, "late", delay_s=0.6), Reply(200, "quick"))
    policy = RetryPolicy(attempts=3, backoff_s=0.01, timeout_s=0.3)
    with HttpClient(policy=policy) as client:
        assert client.get(fake_service.url("/slow")).text == "quick"


def test_connection_refused_is_a_clear_error():
    # a port that was free a moment ago: nothing listens there
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with HttpClient(policy=RetryPolicy(attempts=2, backoff_s=0.01, timeout_s=1)) as client, \
            pytest.raises(ServiceError, match="connection failed") as caught:
        client.get(f"http://127.0.0.1:{port}/x")
    assert f"127.0.0.1:{port}/x" in str(caught.value)


def test_pacing_keeps_requests_apart(fake_service):
    fake_service.script("/bro", Reply(200, "ok"))
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    started = time.monotonic()
    with HttpClient(policy=FAST, min_interval_s=0.1, sleep=sleep) as client:
        for _ in range(4):
            client.get(fake_service.url("/bro"))
    # the client waited before each request after the first (a sleep never returns early, so
    # the three gaps together take at least 0.3 s, whatever the load on the machine)
    assert len(waits) == 3 and all(0 < w <= 0.1 for w in waits)
    assert time.monotonic() - started >= 0.3
    assert len(fake_service.requests) == 4


def test_secrets_never_reach_the_message(fake_service):
    fake_service.script("/echo", Reply(400, "bad key sk-SECRET-123 given"))
    with HttpClient(policy=FAST, secrets=["sk-SECRET-123"]) as client, pytest.raises(ServiceError) as caught:
        client.get(fake_service.url("/echo") + "?X-Amz-Signature=abc123&maxKeys=5")
    message = str(caught.value)
    assert "sk-SECRET-123" not in message and "abc123" not in message
    assert "maxKeys=5" in message and "X-Amz-Signature=REDACTED" in message


def test_redact_url_drops_user_info_and_signed_values():
    assert redact_url("https://user:pw@host.nl/p?token=t&a=1") == "https://host.nl/p?token=REDACTED&a=1"


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
    assert retry_after_s("7") == 7.0
    assert retry_after_s(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert retry_after_s("soon") is None and retry_after_s(None) is None


def test_backoff_grows_exponentially_up_to_the_cap_with_bounded_jitter():
    policy = RetryPolicy(backoff_s=1.0, max_backoff_s=8.0, jitter=0.5)
    rng = random.Random(3)
    for attempt, full in [(1, 1), (2, 2), (3, 4), (4, 8), (6, 8)]:
        waits = [policy.backoff(attempt, rng) for _ in range(50)]
        assert all(full * 0.5 <= w <= full for w in waits)


class DripServer:
    """A loopback server that answers one byte at a time, ``interval_s`` apart, for ever:
    each read of the client gets something within its timeout, so only a deadline ends it.
    ``headers_first``: send whole headers, then drip the body; otherwise drip the headers."""

    def __init__(self, *, interval_s: float, headers_first: bool):
        import socket
        import threading

        self.interval_s, self.headers_first = interval_s, headers_first
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/drip"

    def _serve(self) -> None:
        import threading

        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"
        try:
            conn.recv(65536)
            if self.headers_first:
                conn.sendall(head)
                head = b""
            payload = head + b"x" * 1000000
            for i in range(len(payload)):
                if self.stop.is_set():
                    break
                conn.sendall(payload[i:i + 1])
                time.sleep(self.interval_s)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.mark.parametrize("headers_first", [True, False], ids=["body-drips", "headers-drip"])
def test_a_server_that_drips_bytes_is_cut_off_at_the_overall_deadline(headers_first):
    server = DripServer(interval_s=0.2, headers_first=headers_first)
    policy = RetryPolicy(attempts=5, backoff_s=0.01, timeout_s=1.0, deadline_s=1.5)
    try:
        started = time.monotonic()
        with HttpClient(policy=policy) as client, pytest.raises(ServiceError) as caught:
            client.get(server.url)
        took = time.monotonic() - started
    finally:
        server.close()
    # each read got a byte within its 1 s timeout: without the deadline this would run for hours
    assert took < 1.5 + 1.0, f"the request took {took:.1f} s, the deadline is 1.5 s"
    assert "deadline of 1.5 s" in str(caught.value) and "/drip" in str(caught.value)


def test_a_server_that_never_answers_costs_the_deadline_not_attempts_times_timeout(fake_service):
    fake_service.script("/never", Reply(200, "late", delay_s=5))
    policy = RetryPolicy(attempts=5, backoff_s=0.01, timeout_s=0.8, deadline_s=2.0)
    started = time.monotonic()
    with HttpClient(policy=policy) as client, pytest.raises(ServiceError, match="deadline of 2 s"):
        client.get(fake_service.url("/never"))
    took = time.monotonic() - started
    assert 1.5 <= took < 3.0  # retried within the deadline (5 × 0.8 s would be 4 s), then stopped


def test_a_retry_after_beyond_the_deadline_stops_at_once(fake_service):
    fake_service.script("/quota", Reply(503, "busy", headers={"Retry-After": "30"}))
    policy = RetryPolicy(attempts=3, backoff_s=0.01, timeout_s=1.0, deadline_s=5.0)
    started = time.monotonic()
    with HttpClient(policy=policy) as client, pytest.raises(ServiceError, match="deadline"):
        client.get(fake_service.url("/quota"))
    assert time.monotonic() - started < 2 and len(fake_service.requests) == 1


def test_signature_and_token_echoed_by_a_storage_error_page_are_scrubbed(fake_service):
    from urllib.parse import quote

    signature, token = "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "IQoJb3JpZ2luX2VjE/+Tok=="
    body = (f"<Error><Code>SignatureDoesNotMatch</Code><SignatureProvided>{signature}</SignatureProvided>"
            f"<Token>{token}</Token><CanonicalQueryString>X-Amz-Security-Token={quote(token, safe='')}"
            f"</CanonicalQueryString></Error>")
    fake_service.script("/bucket/file.nc", Reply(403, body, content_type="application/xml"))
    url = (fake_service.url("/bucket/file.nc") + f"?X-Amz-Signature={signature}"
           f"&X-Amz-Security-Token={quote(token, safe='')}&X-Amz-Expires=3600")
    with HttpClient(policy=FAST) as client, pytest.raises(ServiceError) as caught:
        client.get(url)
    message = str(caught.value)
    assert "SignatureDoesNotMatch" in message  # the useful part of the answer stays
    for secret in (signature, token, quote(token, safe="")):
        assert secret not in message
    assert "X-Amz-Expires=3600" in message
