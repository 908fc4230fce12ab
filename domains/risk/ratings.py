"""Client for the credit-ratings provider's HTTP API, and the ratings history it feeds.

Configuration (environment):
  RATINGS_API_URL      base URL of the provider (default http://127.0.0.1:8765, the local one
                       `make dev` starts: domains/risk/ratings_provider.py)
  RATINGS_API_KEY      the API key (required)
  RATINGS_BATCH_SIZE   LEIs per request (default 100, the provider's maximum)
  RATINGS_READ_TIMEOUT seconds to wait for an answer (default 10)
  RATINGS_RETRIES      retries per request on 429, 5xx, timeouts and dropped connections (default 5)
  RATINGS_BACKOFF      exponential backoff factor in seconds (default 0.5: 0, 1, 2, 4 ... capped at 30)
  RATINGS_DEADLINE     seconds a whole run may spend asking the provider (default 600)

A 429 or 503 with Retry-After waits what the provider asks (capped at 60 s, and never past
the run's deadline). The history is written only after every batch succeeded and the rows
passed the entity_ratings contract (the platform's write-audit-publish for Python tables),
in one transaction, so a failed run leaves it exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

DEFAULT_URL = "http://127.0.0.1:8765"
HISTORY_SCHEMA = "ratings_api"
HISTORY_TABLE = "ratings_history"
RETRY_STATUSES = (429, 500, 502, 503, 504)


class RatingsError(RuntimeError):
    """A batch could not be rated, even after retrying; nothing was written."""


class RatingsDeadline(RatingsError):
    """The run's overall deadline (RATINGS_DEADLINE) passed."""


class CappedRetry(Retry):
    """urllib3 Retry that honours Retry-After, but never sleeps longer than `max_retry_after`,
    and never past the run's deadline (`clock["deadline"]`, a time.monotonic() value)."""

    max_retry_after = 60.0
    clock: dict = {"deadline": None}

    def get_retry_after(self, response):
        value = super().get_retry_after(response)
        return None if value is None else min(value, self.max_retry_after)

    def sleep(self, response=None):
        deadline = self.clock.get("deadline")
        if deadline is not None:
            wait = (self.get_retry_after(response) if response is not None else None) or self.get_backoff_time()
            if time.monotonic() + wait > deadline:
                raise RatingsDeadline(
                    f"the run's deadline (RATINGS_DEADLINE) would pass while waiting {wait:g} s to retry"
                )
        super().sleep(response)


@dataclass
class RatingsConfig:
    base_url: str = DEFAULT_URL
    api_key: str = ""
    batch_size: int = 100
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    retries: int = 5
    backoff_factor: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 60.0
    deadline: float = 600.0  # seconds for a whole rate_all()

    @classmethod
    def from_env(cls, **overrides) -> RatingsConfig:
        env = os.environ
        config = cls(
            base_url=env.get("RATINGS_API_URL", DEFAULT_URL).rstrip("/"),
            api_key=env.get("RATINGS_API_KEY", ""),
            batch_size=int(env.get("RATINGS_BATCH_SIZE", 100)),
            read_timeout=float(env.get("RATINGS_READ_TIMEOUT", 10)),
            retries=int(env.get("RATINGS_RETRIES", 5)),
            backoff_factor=float(env.get("RATINGS_BACKOFF", 0.5)),
            deadline=float(env.get("RATINGS_DEADLINE", 600)),
        )
        for key, value in overrides.items():
            setattr(config, key, value)
        return config


@dataclass
class RatingsBatch:
    as_of: dt.date
    agency: str
    ratings: list[dict]
    retries: int = 0


@dataclass
class RatingsResult:
    as_of: dt.date
    rows: list[dict] = field(default_factory=list)  # as_of, lei, rating, outlook, agency
    requests: int = 0
    retries: int = 0


class RatingsClient:
    def __init__(self, config: RatingsConfig):
        if not config.api_key:
            raise RatingsError("no API key for the ratings provider: set RATINGS_API_KEY")
        if config.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.config = config
        self.clock: dict = {"deadline": None}
        retry_class = type(
            "ConfiguredRetry", (CappedRetry,), {"max_retry_after": config.max_retry_after, "clock": self.clock}
        )
        retry = retry_class(
            total=config.retries,
            connect=config.retries,
            read=config.retries,
            status=config.retries,
            backoff_factor=config.backoff_factor,
            backoff_max=config.backoff_max,
            status_forcelist=RETRY_STATUSES,
            # Rating lookups are read-only, so POST is safe to repeat.
            allowed_methods=frozenset({"GET", "POST"}),
            respect_retry_after_header=True,
            raise_on_status=False,  # hand back the last response so the error can quote it
        )
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self.session.headers.update(
            {"X-API-Key": config.api_key, "Accept": "application/json", "User-Agent": "mesh-risk-entity-ratings/1.0"}
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def rate_batch(self, leis: list[str], label: str = "batch") -> RatingsBatch:
        url = f"{self.config.base_url}/v1/ratings"
        where = f"{label} ({len(leis)} LEIs, first {leis[0] if leis else '-'})"
        read_timeout = self.config.read_timeout
        if self.clock["deadline"] is not None:
            left = self.clock["deadline"] - time.monotonic()
            if left <= 0:
                raise RatingsDeadline(
                    f"ratings provider {url}: {where} not asked: the run's deadline of "
                    f"{self.config.deadline:g} s (RATINGS_DEADLINE) passed"
                )
            read_timeout = min(read_timeout, left)
        try:
            response = self.session.post(url, json={"leis": leis}, timeout=(self.config.connect_timeout, read_timeout))
        except RatingsDeadline as exc:
            raise RatingsDeadline(f"ratings provider {url}: {where}: {exc}") from None
        except requests.exceptions.RetryError as exc:
            raise RatingsError(
                f"ratings provider {url}: {where} failed after {self.config.retries} retries: {_reason(exc)}"
            ) from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise RatingsError(
                f"ratings provider {url}: {where} failed after {self.config.retries} retries: {_reason(exc)}"
            ) from exc
        retries = len(response.raw.retries.history) if getattr(response.raw, "retries", None) else 0
        if response.status_code == 401:
            raise RatingsError(f"ratings provider {url} rejected the API key (RATINGS_API_KEY): {response.text[:200]}")
        if response.status_code != 200:
            tried = f" after {retries} retries" if response.status_code in RETRY_STATUSES else ""
            raise RatingsError(
                f"ratings provider {url}: {where} failed{tried}: HTTP {response.status_code} {response.text[:200]}"
            )
        body = _parse_body(response, url, where)
        ratings = body["ratings"]
        got = [r.get("lei") if isinstance(r, dict) else None for r in ratings]
        if sorted(map(str, got)) != sorted(leis):
            missing = sorted(set(leis) - set(got))
            unexpected = sorted({str(g) for g in got} - set(leis))
            repeated = sorted({str(g) for g in got if got.count(g) > 1})
            what = "; ".join(
                part
                for part in (
                    f"{len(missing)} missing (e.g. {missing[:3]})" if missing else "",
                    f"{len(unexpected)} not asked for (e.g. {unexpected[:3]})" if unexpected else "",
                    f"{len(repeated)} rated twice (e.g. {repeated[:3]})" if repeated else "",
                )
                if part
            )
            raise RatingsError(
                f"ratings provider {url}: {where}: answer does not rate exactly the LEIs asked for: {what}"
            )
        return RatingsBatch(as_of=body["as_of"], agency=body.get("agency") or "", ratings=ratings, retries=retries)

    def rate_all(self, leis: list[str], log=None) -> RatingsResult:
        """Rate every LEI, batch by batch; raise RatingsError on the first batch that finally fails,
        or when the run's deadline passes."""
        self.clock["deadline"] = time.monotonic() + self.config.deadline
        try:
            return self._rate_all(leis, log)
        finally:
            self.clock["deadline"] = None

    def _rate_all(self, leis: list[str], log=None) -> RatingsResult:
        leis = sorted(set(leis))
        size = self.config.batch_size
        batches = [leis[i : i + size] for i in range(0, len(leis), size)]
        result = RatingsResult(as_of=dt.datetime.now(dt.UTC).date())
        as_of = None
        for n, batch in enumerate(batches, 1):
            answer = self.rate_batch(batch, label=f"batch {n}/{len(batches)}")
            result.requests += 1 + answer.retries
            result.retries += answer.retries
            if as_of is not None and answer.as_of != as_of:
                raise RatingsError(
                    f"batch {n}/{len(batches)} is rated as of {answer.as_of}, earlier "
                    f"batches as of {as_of}: the provider's rating date changed mid-run; re-run"
                )
            as_of = answer.as_of
            for r in answer.ratings:
                result.rows.append(
                    {
                        "as_of": answer.as_of,
                        "lei": r["lei"],
                        "rating": r.get("rating"),
                        "outlook": r.get("outlook"),
                        "agency": answer.agency,
                    }
                )
            if log:
                log.info(f"ratings batch {n}/{len(batches)}: {len(batch)} LEIs, {answer.retries} retries")
        if as_of is not None:
            result.as_of = as_of
        return result


def _parse_body(response, url: str, where: str) -> dict:
    """The answer's JSON, or a RatingsError naming the batch, the URL and what is wrong."""
    kind = response.headers.get("Content-Type", "?")
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError) as exc:
        raise RatingsError(
            f"ratings provider {url}: {where}: HTTP 200 but the body is not valid JSON "
            f"({kind}, {len(response.content)} bytes: {exc}); starts {response.text[:80]!r}"
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("ratings"), list):
        raise RatingsError(
            f"ratings provider {url}: {where}: HTTP 200 but the body has no `ratings` list "
            f"(got {type(body).__name__} with keys {sorted(body)[:5] if isinstance(body, dict) else '-'})"
        )
    try:
        body["as_of"] = dt.date.fromisoformat(str(body.get("as_of")))
    except ValueError:
        raise RatingsError(f"ratings provider {url}: {where}: `as_of` is not a date: {body.get('as_of')!r}") from None
    return body


def _reason(exc: Exception) -> str:
    reason = exc.args[0] if exc.args else exc
    inner = getattr(reason, "reason", None)
    return str(inner or reason)


HISTORY_DDL = f"""
    create table if not exists {HISTORY_SCHEMA}.{HISTORY_TABLE} (
        as_of date not null,
        lei varchar not null,
        rating varchar not null,
        outlook varchar,
        agency varchar not null,
        loaded_at timestamp not null,
        run_id varchar not null,
        primary key (as_of, lei)
    )"""


def to_arrow(result: RatingsResult):
    """The answer's rows with the output port's columns (as_of, lei, rating, outlook, agency);
    the schema is the history table's declaration (only outlook may be null)."""
    import pyarrow as pa

    schema = pa.schema(
        [
            pa.field("as_of", pa.date32(), nullable=False),
            pa.field("lei", pa.string(), nullable=False),
            pa.field("rating", pa.string(), nullable=False),
            pa.field("outlook", pa.string()),
            pa.field("agency", pa.string(), nullable=False),
        ]
    )
    return pa.table({name: [r[name] for r in result.rows] for name in schema.names}, schema=schema)


def append_history(database: Path, result: RatingsResult, run_id: str) -> int:
    """Write one day's ratings into the history, in one transaction.

    Re-rating on the same day replaces that day's rows; other days are kept, so the table
    is a dated history. Returns the number of rows written.
    """
    import duckdb

    table = to_arrow(result)
    con = duckdb.connect(str(database))
    try:
        con.execute("begin transaction")
        con.execute(f"create schema if not exists {HISTORY_SCHEMA}")
        con.execute(HISTORY_DDL)
        con.execute(f"delete from {HISTORY_SCHEMA}.{HISTORY_TABLE} where as_of = ?", [result.as_of])
        con.register("new_ratings", table)
        con.execute(
            f"""
            insert into {HISTORY_SCHEMA}.{HISTORY_TABLE}
            select as_of, lei, rating, outlook, agency, now()::timestamp, ? from new_ratings""",
            [run_id],
        )
        con.execute("commit")
    except Exception:
        try:
            con.execute("rollback")
        except Exception:  # noqa: BLE001 - the original error is the one to report
            pass
        raise
    finally:
        con.close()
    return table.num_rows
