"""The ratings client against the local ratings provider, over real HTTP on 127.0.0.1, with
injected faults: retries happen (counted server-side), Retry-After is honoured, a batch that
never succeeds fails the whole run with a clear error."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
import requests
from conftest import free_port

from mesh_platform.importing import import_file

ROOT = Path(__file__).resolve().parent.parent
PROVIDER = ROOT / "domains" / "risk" / "ratings_provider.py"
KEY = "test-ratings-key"


def load_module(path: Path, name: str):
    """Import a domain file by path, registered in sys.modules (dataclasses need that)."""
    return import_file(path, name, reuse=True)


ratings = load_module(ROOT / "domains" / "risk" / "ratings.py", "risk_ratings_under_test")
provider_module = load_module(PROVIDER, "risk_ratings_provider_under_test")


@contextmanager
def start_provider(*args: str, api_key: str = KEY):
    """The provider as its own process on a free port; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(PROVIDER), "--port", str(port), "--api-key", api_key, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"ratings provider did not start: {proc.stdout.read()}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def admin(url: str, path: str, body: dict | None = None, api_key: str = KEY) -> dict:
    headers = {"X-API-Key": api_key}
    if body is None and path == "stats":
        response = requests.get(f"{url}/admin/stats", headers=headers, timeout=5)
    else:
        response = requests.post(f"{url}/admin/{path}", json=body or {}, headers=headers, timeout=5)
    response.raise_for_status()
    return response.json()


def stats_after_settling(url: str, expected_requests: int, timeout: float = 10) -> dict:
    """Slow requests are counted when the server finishes them, after the client gave up."""
    deadline = time.monotonic() + timeout
    while True:
        stats = admin(url, "stats")
        if stats["ratings_requests"] >= expected_requests or time.monotonic() > deadline:
            return stats
        time.sleep(0.1)


def leis(n: int, start: int = 0) -> list[str]:
    brokerage_seed = load_module(ROOT / "domains" / "brokerage" / "seed.py", "brokerage_seed_for_ratings")
    out = []
    for i in range(start, start + n):
        base = f"5493{'00'}{i:012d}"
        out.append(base + brokerage_seed.lei_check_digits(base))
    return out


@pytest.fixture(scope="module")
def provider():
    with start_provider() as url:
        yield url


@pytest.fixture
def url(provider):
    admin(provider, "reset")
    return provider


def client(url: str, **overrides) -> ratings.RatingsClient:
    config = ratings.RatingsConfig(
        base_url=url, api_key=KEY, batch_size=100, read_timeout=5, retries=4, backoff_factor=0.01
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return ratings.RatingsClient(config)


def test_rates_every_lei_in_batches_deterministically(url):
    wanted = leis(250)
    with client(url) as c:
        result = c.rate_all(wanted)
    assert admin(url, "stats")["ratings_requests"] == 3  # 100 + 100 + 50
    assert [r["lei"] for r in result.rows] == sorted(wanted)
    for row in result.rows:
        assert (row["rating"], row["outlook"]) == provider_module.rating_for(row["lei"])
        assert row["agency"] == provider_module.AGENCY
    assert result.retries == 0 and result.requests == 3
    assert len({r["rating"] for r in result.rows}) > 5  # a spread of ratings, not one value


def test_429_with_retry_after_is_retried_after_the_wait(url):
    admin(url, "faults", {"rate_limit": 2, "retry_after": 1})
    started = time.monotonic()
    with client(url, backoff_factor=0.0) as c:
        result = c.rate_all(leis(10))
    elapsed = time.monotonic() - started
    stats = admin(url, "stats")
    assert stats["ratings_by_status"] == {"429": 2, "200": 1}
    assert result.retries == 2 and len(result.rows) == 10
    assert elapsed >= 2.0, f"Retry-After: 1 twice, but the client retried after {elapsed:.2f}s"


def test_retry_after_is_capped(url):
    admin(url, "faults", {"rate_limit": 1, "retry_after": 3600})
    started = time.monotonic()
    with client(url, max_retry_after=0.5) as c:
        c.rate_all(leis(3))
    assert time.monotonic() - started < 5


def test_500s_are_retried_with_backoff(url):
    admin(url, "faults", {"status_500": 3})
    with client(url) as c:
        result = c.rate_all(leis(120))  # two batches: the first absorbs the three 500s
    stats = admin(url, "stats")
    assert stats["ratings_by_status"] == {"500": 3, "200": 2}
    assert stats["ratings_requests"] == 5
    assert result.retries == 3 and len(result.rows) == 120


def test_timeouts_are_retried(url):
    admin(url, "faults", {"slow": 2, "delay": 1.5})
    with client(url, read_timeout=0.5) as c:
        result = c.rate_all(leis(5))
    assert len(result.rows) == 5 and result.retries == 2
    stats = stats_after_settling(url, 3)
    assert stats["ratings_requests"] == 3  # two timed out, the third answered


def test_a_batch_that_never_succeeds_fails_clearly_and_stops(url):
    wanted = leis(250)
    admin(url, "faults", {"fail_leis": [sorted(wanted)[150]]})  # in batch 2 of 3
    with client(url, retries=3) as c, pytest.raises(ratings.RatingsError) as exc:
        c.rate_all(wanted)
    message = str(exc.value)
    assert "batch 2/3" in message and "100 LEIs" in message and "after 3 retries" in message
    assert url in message
    stats = admin(url, "stats")
    assert stats["ratings_by_status"] == {"200": 1, "500": 4}  # batch 1 once, batch 2 four times, batch 3 never


def test_unreachable_provider_fails_clearly():
    with client(f"http://127.0.0.1:{free_port()}", retries=1) as c, pytest.raises(ratings.RatingsError) as exc:
        c.rate_all(leis(3))
    assert "batch 1/1" in str(exc.value) and "after 1 retries" in str(exc.value)


def test_wrong_api_key_is_not_retried(url):
    with client(url, api_key="wrong") as c, pytest.raises(ratings.RatingsError) as exc:
        c.rate_all(leis(3))
    assert "rejected the API key (RATINGS_API_KEY)" in str(exc.value)
    assert admin(url, "stats")["ratings_by_status"] == {"401": 1}


def test_missing_api_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("RATINGS_API_KEY", raising=False)
    with pytest.raises(ratings.RatingsError, match="set RATINGS_API_KEY"):
        ratings.RatingsClient(ratings.RatingsConfig.from_env())


def test_the_providers_own_rate_limit_is_survived():
    with start_provider("--rate", "4") as url:
        with client(url, batch_size=1, backoff_factor=0.0, retries=10) as c:
            result = c.rate_all(leis(12))
        stats = admin(url, "stats")
    assert len(result.rows) == 12
    assert stats["ratings_by_status"].get("429", 0) >= 1, stats
    assert stats["ratings_by_status"]["200"] == 12


def test_history_is_appended_per_day_in_one_transaction(url, tmp_path):
    database = tmp_path / "risk.duckdb"
    with client(url) as c:
        admin(url, "faults", {"as_of": "2026-01-01"})
        first = c.rate_all(leis(30))
        admin(url, "faults", {"as_of": "2026-01-02"})
        second = c.rate_all(leis(30))
    assert ratings.append_history(database, first, "run-1") == 30
    assert ratings.append_history(database, second, "run-2") == 30
    assert ratings.append_history(database, second, "run-3") == 30  # the same day again replaces it
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select as_of::varchar, count(*), min(run_id) from ratings_api.ratings_history group by 1 order by 1"
        ).fetchall()
    assert rows == [("2026-01-01", 30, "run-1"), ("2026-01-02", 30, "run-3")]


def test_provider_checks_its_inputs(url):
    post = lambda body, key=KEY: requests.post(f"{url}/v1/ratings", json=body, headers={"X-API-Key": key}, timeout=5)  # noqa: E731
    assert post({"leis": leis(1)}, key="nope").status_code == 401
    assert post({"leis": ["not-an-lei"]}).status_code == 422
    assert post({"leis": leis(101)}).status_code == 413
    assert post({"nope": 1}).status_code == 400
    assert (
        requests.post(f"{url}/admin/faults", json={"bogus": 1}, headers={"X-API-Key": KEY}, timeout=5).status_code
        == 400
    )


def test_provider_runs_from_make_dev_env(tmp_path):
    """`make dev` starts it with the key from the environment."""
    port = free_port()
    env = {**os.environ, "RATINGS_API_KEY": "from-env"}
    proc = subprocess.Popen(
        [sys.executable, str(PROVIDER), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert "listening on http://127.0.0.1:" in proc.stdout.readline()
        response = requests.post(
            f"http://127.0.0.1:{port}/v1/ratings",
            json={"leis": leis(1)},
            headers={"Authorization": "Bearer from-env"},
            timeout=5,
        )
        assert response.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
