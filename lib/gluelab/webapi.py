"""A stand-in for a third-party REST API, served on 127.0.0.1 inside the lab's process.

Why: the guide's API-ingestion Lambda (lesson 11) calls an external API with a key, and real APIs page their
results, limit how fast a client may call, and are sometimes slow. A handler that ignores any of that loses data
without an error: it saves page 1 of 4, skips an endpoint that answered 429, or hangs until Lambda kills it.
This server behaves like such an API, deterministically, so a lesson can show each failure and its fix without
an internet connection. It is gluelab's own (not an AWS service) and speaks plain HTTP + JSON:

* ``GET /<resource>?page=N&per_page=M`` -> ``{"data": [...], "page": N, "per_page": M, "total": T,
  "next": "<url of page N+1>" | null}`` (pages from 1; ``per_page`` at most 100, default :attr:`page_size`);
* every request needs ``Authorization: Bearer <api key>`` (else 401);
* at most ``rate_limit`` requests per ``rate_window`` seconds: the next one gets ``429 Too Many Requests`` with
  ``Retry-After`` (seconds), as most APIs do;
* ``slow={"orders": 5.0}`` makes a resource answer only after that many seconds;
* unknown resources are 404, a bad ``page`` is 400; every answer is JSON with an ``error`` on failure.

``api.calls`` records each request as ``(resource, page, status)``, so a lesson can show what a handler did.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from . import data as datasets

MAX_PAGE_SIZE = 100


class StandInAPI:
    """A paged, keyed, rate-limited JSON API over ``resources`` (``{name: [record, ...]}``)."""

    def __init__(self, resources: dict[str, list[dict]], *, api_key: str, page_size: int = 50,
                 rate_limit: int | None = None, rate_window: float = 1.0, slow: dict[str, float] | None = None):
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1-{MAX_PAGE_SIZE}, got {page_size}")
        self.resources = resources
        self.api_key = api_key
        self.page_size = page_size
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.slow = dict(slow or {})
        self.calls: list[tuple[str, int | None, int]] = []
        self._recent: list[float] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The base URL (``http://127.0.0.1:<port>``); the server starts on first use."""
        if self._server is None:
            self.start()
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Serve on a free port of 127.0.0.1 in a background thread (idempotent); return the base URL."""
        if self._server is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
            self._server.daemon_threads = True
            threading.Thread(target=self._server.serve_forever, name="gluelab-webapi", daemon=True).start()
        return self.url

    def stop(self) -> None:
        """Stop serving (the port is released)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset_calls(self) -> None:
        """Forget the recorded calls and the rate limiter's history."""
        with self._lock:
            self.calls.clear()
            self._recent.clear()

    def _admit(self) -> float | None:
        """None if a request may go ahead now, else the seconds until it may (rate limit)."""
        if self.rate_limit is None:
            return None
        with self._lock:
            now = time.monotonic()
            self._recent = [t for t in self._recent if now - t < self.rate_window]
            if len(self._recent) >= self.rate_limit:
                return self.rate_window - (now - self._recent[0])
            self._recent.append(now)
            return None

    def answer(self, path: str, query: str, authorization: str | None) -> tuple[int, dict, dict]:
        """``(status, headers, body)`` for ``GET path?query``."""
        resource = path.strip("/")
        params = parse_qs(query)
        page = None
        if authorization != f"Bearer {self.api_key}":
            return self._record(resource, page, 401, {}, {"error": "missing or invalid API key"})
        if resource not in self.resources:
            return self._record(resource, page, 404, {}, {"error": f"no such resource: /{resource}",
                                                          "resources": sorted(self.resources)})
        try:
            page = int(params.get("page", ["1"])[0])
            per_page = int(params.get("per_page", [str(self.page_size)])[0])
            if page < 1 or not 1 <= per_page <= MAX_PAGE_SIZE:
                raise ValueError
        except ValueError:
            return self._record(resource, page, 400, {}, {
                "error": f"page must be >= 1 and per_page 1-{MAX_PAGE_SIZE}"})
        wait = self._admit()
        if wait is not None:
            retry_after = max(1, round(wait + 0.5))
            return self._record(resource, page, 429, {"Retry-After": str(retry_after)},
                                {"error": "rate limit exceeded", "retry_after_seconds": retry_after})
        time.sleep(self.slow.get(resource, 0))
        records = self.resources[resource]
        chunk = records[(page - 1) * per_page: page * per_page]
        more = page * per_page < len(records)
        body = {"data": chunk, "page": page, "per_page": per_page, "total": len(records),
                "next": f"{self.url}/{resource}?page={page + 1}&per_page={per_page}" if more else None}
        return self._record(resource, page, 200, {}, body)

    def _record(self, resource, page, status, headers, body):
        with self._lock:
            self.calls.append((resource, page, status))
        return status, headers, body


def _handler_for(api: StandInAPI):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            parts = urlsplit(self.path)
            status, headers, body = api.answer(parts.path, parts.query, self.headers.get("Authorization"))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):  # no access log lines in notebooks
            pass

    return Handler


def shop_api(*, api_key: str, rows: int = 1305, **options) -> StandInAPI:
    """The online shop's API: ``/customers``, ``/products`` and ``/orders`` taken from the first ``rows``
    transactions of the bundled Kaggle dataset (gabrielramos87/an-online-shop-business), in file order."""
    frame = datasets.load("online_shop_sample").head(rows)
    frame = frame.astype({"CustomerNo": "string"}).fillna({"CustomerNo": ""})
    customers = (frame[frame["CustomerNo"] != ""].drop_duplicates("CustomerNo")
                 [["CustomerNo", "Country"]].rename(columns={"CustomerNo": "customer_id", "Country": "country"}))
    products = (frame.drop_duplicates("ProductNo")[["ProductNo", "ProductName", "Price"]]
                .rename(columns={"ProductNo": "product_id", "ProductName": "name", "Price": "price"}))
    orders = frame.rename(columns={"TransactionNo": "order_id", "Date": "date", "ProductNo": "product_id",
                                   "Quantity": "quantity", "CustomerNo": "customer_id"})[
        ["order_id", "date", "product_id", "quantity", "customer_id"]]
    resources = {name: _records(table) for name, table in
                 (("customers", customers), ("products", products), ("orders", orders))}
    return StandInAPI(resources, api_key=api_key, **options)


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))
