"""A local stand-in for the external credit-ratings provider, for development and tests.

    python domains/risk/ratings_provider.py --port 8765 --api-key dev-ratings-key

Standard library only. It behaves like a rate-limited commercial API:

  GET  /health                      -> 200 {"status": "ok"}                      (no key needed)
  POST /v1/ratings {"leis": [...]}  -> 200 {"as_of", "agency", "ratings": [{"lei", "rating", "outlook"}]}
       header X-API-Key (or Authorization: Bearer <key>); 401 without a valid key;
       422 for a malformed LEI; 413 for more than --max-batch LEIs;
       429 + Retry-After when a key exceeds --rate requests per second.

Ratings are deterministic per LEI (a hash), so tests can recompute them.

Faults for testing clients, switched at start-up (flags) or at run time (admin endpoint,
same API key):

  POST /admin/faults {"status_500": n,          # the next n rating requests answer 500
                      "rate_limit": n,          # the next n answer 429 ...
                      "retry_after": s,         # ... with Retry-After: s (default 1)
                      "slow": n, "delay": s,    # the next n answer after s seconds
                      "fail_leis": [lei, ...],  # a batch containing one of these always answers 500
                      "as_of": "YYYY-MM-DD",    # the rating date reported (default: today, UTC)
                      "bad_ratings": {lei: r},  # answer rating r for these LEIs (e.g. "ZZZ")
                      "extra_leis": [lei, ...], # also rate these, unasked
                      "body": "html"|"truncated"}  # the next 200 answers carry a broken body
  GET  /admin/stats                 -> request counts: all, rating requests, each by status
  POST /admin/reset                 -> clear faults and counters
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AGENCY = "Acme Credit Ratings"
RATINGS = [
    "AAA",
    "AA+",
    "AA",
    "AA-",
    "A+",
    "A",
    "A-",
    "BBB+",
    "BBB",
    "BBB-",
    "BB+",
    "BB",
    "BB-",
    "B+",
    "B",
    "B-",
    "CCC+",
    "CCC",
    "CC",
    "C",
    "D",
]
# Most entities are rated in the A..BB range; a few at the extremes.
_WEIGHTS = [1, 2, 3, 4, 6, 8, 9, 10, 11, 10, 8, 7, 6, 5, 4, 2, 1, 1, 1, 0.5, 0.5]
OUTLOOKS = ["stable"] * 6 + ["positive", "negative", "negative", "developing"]
LEI = re.compile(r"^[A-Z0-9]{18}[0-9]{2}$")


def rating_for(lei: str) -> tuple[str, str]:
    """The deterministic (rating, outlook) of an LEI."""
    digest = hashlib.sha256(lei.encode()).digest()
    x = int.from_bytes(digest[:8], "big") / 2**64 * sum(_WEIGHTS)
    for rating, weight in zip(RATINGS, _WEIGHTS):  # noqa: B007 - the loop leaves `rating` set
        if x < weight:
            break
        x -= weight
    return rating, OUTLOOKS[digest[8] % len(OUTLOOKS)]


class Provider:
    """State shared by the handler threads: configuration, faults, counters, rate limiter."""

    def __init__(self, api_key: str, rate: float = 20.0, max_batch: int = 100, faults: dict | None = None):
        self.api_key = api_key
        self.rate = rate
        self.max_batch = max_batch
        self.lock = threading.Lock()
        self.faults: dict = {}
        self.stats: dict = {}
        self.reset()
        if faults:
            self.set_faults(faults)
        self._window: list[float] = []

    def reset(self) -> None:
        with self.lock:
            self.faults = {
                "status_500": 0,
                "rate_limit": 0,
                "retry_after": 1,
                "slow": 0,
                "delay": 0.0,
                "fail_leis": [],
                "as_of": None,
                "bad_ratings": {},
                "extra_leis": [],
                "body": None,
            }
            self.stats = {
                "requests": 0,
                "ratings_requests": 0,
                "by_status": {},
                "ratings_by_status": {},
                "leis_rated": 0,
            }

    def set_faults(self, faults: dict) -> dict:
        unknown = set(faults) - set(self.faults)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {sorted(self.faults)}")
        with self.lock:
            self.faults.update(faults)
            return dict(self.faults)

    def take(self, name: str) -> bool:
        """Consume one occurrence of a counted fault."""
        with self.lock:
            if self.faults[name] > 0:
                self.faults[name] -= 1
                return True
            return False

    def over_rate(self) -> bool:
        now = time.monotonic()
        with self.lock:
            self._window = [t for t in self._window if now - t < 1.0]
            if len(self._window) >= self.rate:
                return True
            self._window.append(now)
            return False

    def count(self, path: str, status: int) -> None:
        with self.lock:
            self.stats["requests"] += 1
            by = self.stats["by_status"]
            by[str(status)] = by.get(str(status), 0) + 1
            if path == "/v1/ratings":
                self.stats["ratings_requests"] += 1
                by = self.stats["ratings_by_status"]
                by[str(status)] = by.get(str(status), 0) + 1


class Handler(BaseHTTPRequestHandler):
    server_version = "RatingsProvider/1.0"
    provider: Provider  # set on the subclass made by make_server

    def log_message(self, fmt, *args):  # quiet unless asked
        if getattr(self.server, "verbose", False):
            super().log_message(fmt, *args)

    # --- plumbing --------------------------------------------------------------------
    def _send(self, status: int, body: dict, headers: dict | None = None) -> None:
        self._send_raw(status, json.dumps(body).encode(), "application/json", headers)

    def _send_raw(self, status: int, data: bytes, content_type: str, headers: dict | None = None) -> None:
        # counted before the answer goes out: a client that has its answer and then asks for the
        # stats must find it counted (counted after, a loaded machine showed the stats behind)
        self.provider.count(self.path.split("?")[0], status)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its read timeout); nothing to answer

    def _authorised(self) -> bool:
        key = self.headers.get("X-API-Key")
        auth = self.headers.get("Authorization", "")
        if not key and auth.startswith("Bearer "):
            key = auth[len("Bearer ") :]
        return bool(key) and key == self.provider.api_key

    def _json_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw or b"{}")

    # --- routes ------------------------------------------------------------------------
    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/health":
            return self._send(200, {"status": "ok"})
        if not self._authorised():
            return self._send(401, {"error": "missing or invalid API key"})
        if path == "/admin/stats":
            with self.provider.lock:
                stats = json.loads(json.dumps(self.provider.stats))
            return self._send(200, stats)
        return self._send(404, {"error": f"no route {path}"})

    def do_POST(self):
        path = self.path.split("?")[0]
        if not self._authorised():
            return self._send(401, {"error": "missing or invalid API key"})
        try:
            body = self._json_body()
        except (ValueError, UnicodeDecodeError):
            return self._send(400, {"error": "expected a JSON body"})
        if path == "/admin/faults":
            try:
                return self._send(200, self.provider.set_faults(body))
            except ValueError as exc:
                return self._send(400, {"error": str(exc)})
        if path == "/admin/reset":
            self.provider.reset()
            return self._send(200, {"status": "reset"})
        if path == "/v1/ratings":
            return self._ratings(body)
        return self._send(404, {"error": f"no route {path}"})

    def _ratings(self, body: dict):
        p = self.provider
        if p.take("slow"):
            time.sleep(float(p.faults["delay"]))
        if p.take("rate_limit") or p.over_rate():
            return self._send(429, {"error": "rate limit exceeded"}, {"Retry-After": p.faults["retry_after"]})
        if p.take("status_500"):
            return self._send(500, {"error": "internal error (injected)"})
        leis = body.get("leis")
        if not isinstance(leis, list) or not all(isinstance(x, str) for x in leis):
            return self._send(400, {"error": 'expected {"leis": ["<LEI>", ...]}'})
        if len(leis) > p.max_batch:
            return self._send(413, {"error": f"at most {p.max_batch} LEIs per request, got {len(leis)}"})
        bad = [x for x in leis if not LEI.match(x)]
        if bad:
            return self._send(422, {"error": "malformed LEIs", "leis": bad[:10]})
        if set(leis) & set(p.faults["fail_leis"]):
            return self._send(500, {"error": "internal error (injected for this batch)"})
        as_of = p.faults["as_of"] or dt.datetime.now(dt.UTC).date().isoformat()
        ratings = []
        for lei in [*leis, *p.faults["extra_leis"]]:
            rating, outlook = rating_for(lei)
            rating = p.faults["bad_ratings"].get(lei, rating)
            ratings.append({"lei": lei, "rating": rating, "outlook": outlook})
        with p.lock:
            p.stats["leis_rated"] += len(leis)
        if p.faults["body"] == "html":
            return self._send_raw(200, b"<html><body>Service temporarily unavailable</body></html>", "text/html")
        if p.faults["body"] == "truncated":
            whole = json.dumps({"as_of": as_of, "agency": AGENCY, "ratings": ratings}).encode()
            return self._send_raw(200, whole[: len(whole) // 2], "application/json")
        return self._send(200, {"as_of": as_of, "agency": AGENCY, "ratings": ratings})


def make_server(host: str, port: int, provider: Provider, verbose: bool = False) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"provider": provider})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.verbose = verbose
    return server


def main(argv: list[str] | None = None) -> None:
    import os

    parser = argparse.ArgumentParser(description="Local credit-ratings provider (development and tests).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--api-key",
        default=os.environ.get("RATINGS_API_KEY"),
        help="the key clients must send (default: $RATINGS_API_KEY)",
    )
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second per server before 429")
    parser.add_argument("--max-batch", type=int, default=100)
    parser.add_argument("--faults", default="{}", help="start-up faults as JSON, e.g. '{\"status_500\": 2}'")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("an API key is required: --api-key or RATINGS_API_KEY")
    provider = Provider(args.api_key, rate=args.rate, max_batch=args.max_batch, faults=json.loads(args.faults))
    server = make_server(args.host, args.port, provider, verbose=args.verbose)
    print(f"ratings provider listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
