"""Shared machinery of the local service emulators.

An :class:`Emulator` is a small threaded HTTP/1.1 server (standard library only) with

* a router: method + regular expression on the *raw* (still percent-encoded) path, without the
  query string, so handlers can see separators such as a literal ``%2C`` exactly as sent;
* request recording (:class:`RecordedRequest`, bounded by ``record_limit``) and per-route counters;
* switchable faults for API routes (see :mod:`.faults`; subclasses add their own kinds), a global
  ``latency`` and a global ``rate_limit_per_second`` (429 with ``Retry-After``);
* control endpoints under ``/_emulator/`` (never recorded, never faulted): ``GET health``,
  ``GET requests`` (``?label=``, ``?limit=``), ``POST reset``, ``GET counts``, ``GET|POST|DELETE
  faults`` (POST body ``{"kind": ..., "count": ..., **params}``, DELETE ``?kind=``), ``POST config``
  (``{"latency": s, "rate_limit_per_second": n}``).

It serves benchmarks of 100,000 products, so the hot path does no per-request logging, answers
with one socket write and looks routes and data up in dictionaries.

This package imports nothing from odoo and only relative modules inside itself: Odoo imports it as
``odoo.addons.supplier_connector.emulators``, scripts and pytest as ``emulators``.
"""

from __future__ import annotations

import json
import math
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .faults import (
    ANSWER_FAULTS,
    BUILTIN_FAULT_KINDS,
    DELAY_FAULTS,
    Fault,
    take_due_faults,
    truncate_json,
)
from .server import (
    EmulatorRequestHandler,
    EmulatorServer,
    RecordedRequest,
    Response,
    accepts_gzip,
    json_response,
    make_png,
    text_response,
)

__all__ = [
    "BUILTIN_FAULT_KINDS",
    "Emulator",
    "Fault",
    "RecordedRequest",
    "Response",
    "json_response",
    "make_png",
    "text_response",
]

CONTROL_PREFIX = "/_emulator/"


@dataclass(slots=True)
class _Route:
    method: str
    regex: re.Pattern
    handler: Callable
    label: str


class Emulator:
    """Base class of every service emulator; see the module docstring.

    Subclasses register API routes with :meth:`route` and may add fault kinds by listing them in
    ``extra_fault_kinds`` and implementing ``_fault_<kind>(fault, request)`` (called when the fault
    is due, before the handler; it may return a :class:`Response` to answer instead).
    """

    name = "emulator"
    extra_fault_kinds: tuple[str, ...] = ()

    def __init__(self, port: int = 0, host: str = "127.0.0.1", latency: float = 0.0,
                 rate_limit_per_second: float = 0, record_limit: int | None = 10_000):
        self.host = host
        self.port = port
        self.latency = latency
        self.rate_limit_per_second = rate_limit_per_second
        self.lock = threading.RLock()
        self.errors: list[str] = []
        self._record_limit = record_limit
        self._requests: deque[RecordedRequest] = deque(maxlen=record_limit)
        self._counts: dict[str, int] = {}
        self._faults: dict[str, Fault] = {}
        self._rate_window = (0.0, 0)
        self._routes: dict[str, list[_Route]] = {}
        self._control_routes: dict[str, list[_Route]] = {}
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._register_control_routes()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self):
        if self._server is not None:
            return self
        self._stopping.clear()
        server = EmulatorServer((self.host, self.port), self)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in latency/timeout faults
        server.shutdown()
        with self.lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    def serve_forever(self):
        """Start and block until stopped (SIGTERM/Ctrl-C handling is the caller's business)."""
        self.start()
        try:
            while self._server is not None:
                self._stopping.wait(0.5)
        finally:
            self.stop()

    def _track_connection(self, conn, opened: bool):
        with self.lock:
            if opened:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # -- routing ---------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Callable, label: str | None = None):
        """Register an API route. ``pattern`` is a regex fully matched against the raw path
        (no query string); named groups are passed to ``handler(request, **groups)``."""
        self._routes.setdefault(method.upper(), []).append(
            _Route(method.upper(), re.compile(pattern), handler, label or pattern))

    def control_route(self, method: str, pattern: str, handler: Callable):
        """Register a control route (``pattern`` is relative to ``/_emulator/``)."""
        self._control_routes.setdefault(method.upper(), []).append(
            _Route(method.upper(), re.compile(re.escape(CONTROL_PREFIX) + pattern), handler,
                   "control"))

    @staticmethod
    def _match(routes: dict[str, list[_Route]], method: str, raw: str):
        for candidate in routes.get("GET" if method == "HEAD" else method, ()):
            match = candidate.regex.fullmatch(raw)
            if match:
                return candidate, match.groupdict()
        return None, None

    def not_found(self, request: RecordedRequest) -> Response:
        """Answer for a path no route knows; services override it with their error shape."""
        return text_response("Not Found", 404)

    def rate_limit_response(self, retry_after: float) -> Response:
        """The 429 answer (header ``Retry-After`` is added by the caller)."""
        return json_response({"error": "Too Many Requests", "retry_after": retry_after}, 429)

    # -- recording -------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of the recorded API requests, oldest first (at most ``record_limit``)."""
        with self.lock:
            return list(self._requests)

    def requests_for(self, label: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.label == label]

    def counts(self) -> dict[str, int]:
        """Number of API requests received per route label since the last reset."""
        with self.lock:
            return dict(self._counts)

    def reset(self):
        """Forget recorded requests and counters (faults and service state stay)."""
        with self.lock:
            self._requests.clear()
            self._counts.clear()
            self.errors.clear()

    # -- faults ----------------------------------------------------------------------------
    @property
    def fault_kinds(self) -> tuple[str, ...]:
        return BUILTIN_FAULT_KINDS + self.extra_fault_kinds

    def set_fault(self, kind: str, count: int | None = 1, **params) -> Fault:
        """Switch a fault on for the next ``count`` API requests (``None``: until cleared).

        Parameters: ``after`` (let N requests through first) and ``match`` (a regular expression
        searched in the raw path and body: only matching requests are faulted, and counted by
        ``after``/``count``) for every kind; ``seconds`` for ``timeout`` (default 5), ``slow``
        (default 1) and ``slow_body`` (pause before each ``piece`` of the body: default 1 s,
        1 byte); ``retry_after`` for ``rate_limit``
        (default 1); ``statuses`` for ``http_5xx`` (default 500, 502, 503 in turn).
        Setting a kind again replaces its previous setting.
        """
        if kind not in self.fault_kinds:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(self.fault_kinds)}")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError("count must be a positive integer or None")
        after = int(params.pop("after", 0) or 0)
        if after < 0:
            raise ValueError("after must not be negative")
        if params.get("match") is not None:
            try:  # a bad pattern fails here, not inside a request
                re.compile(params["match"])
            except re.error as exc:
                raise ValueError(f"match is not a regular expression: {exc}") from exc
        fault = Fault(kind, count, after, params)
        with self.lock:
            self._faults.pop(kind, None)
            self._faults[kind] = fault
        return fault

    def clear_faults(self, kind: str | None = None):
        with self.lock:
            if kind is None:
                self._faults.clear()
            else:
                self._faults.pop(kind, None)

    def faults(self) -> list[Fault]:
        with self.lock:
            return list(self._faults.values())

    def _check_rate(self, now: float) -> float:
        """Fixed one-second window; returns 0 or the seconds to wait (under the lock)."""
        start, seen = self._rate_window
        if now - start >= 1.0:
            start, seen = now, 0
        seen += 1
        self._rate_window = (start, seen)
        if seen > self.rate_limit_per_second:
            return max(1.0 - (now - start), 0.001)
        return 0.0

    def sleep(self, seconds: float):
        """Sleep that a stop() interrupts."""
        if seconds > 0:
            self._stopping.wait(seconds)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    # -- request handling ------------------------------------------------------------------
    def _handle(self, request: RecordedRequest, raw: str, handler: EmulatorRequestHandler):
        """Answer one request (called by the request handler); ``None`` means "reset"."""
        try:
            if raw.startswith(CONTROL_PREFIX):
                return self._handle_control(request, request.method, raw)
            return self._handle_api(request, request.method, raw, handler)
        except Exception as exc:  # noqa: BLE001 - an emulator bug must not kill the connection
            self.errors.append(f"{request.method} {request.raw_path}: {exc!r}")
            return text_response(f"emulator error: {exc!r}", 500)

    def _handle_control(self, request, method, raw):
        route, params = self._match(self._control_routes, method, raw)
        if route is None:
            return json_response({"error": "unknown control endpoint"}, 404)
        try:
            return route.handler(request, **params)
        except (ValueError, TypeError, KeyError) as exc:
            return json_response({"error": str(exc)}, 400)

    def _handle_api(self, request, method, raw, handler):
        route, params = self._match(self._routes, method, raw)
        request.label = label = route.label if route else "unknown"
        retry_after = 0.0
        with self.lock:
            if self._record_limit != 0:
                self._requests.append(request)
            self._counts[label] = self._counts.get(label, 0) + 1
            if self.rate_limit_per_second:
                retry_after = self._check_rate(time.monotonic())
            due = (take_due_faults(self._faults, request)
                   if self._faults and not retry_after else ())
        delay = self.latency
        answer_fault = None
        for fault, index in due:
            if fault.kind in DELAY_FAULTS:
                delay += fault.delay
            elif fault.kind in ANSWER_FAULTS:
                answer_fault = (fault, index)
        self.sleep(delay)
        if retry_after:
            return self._rate_limited(math.ceil(retry_after))
        response = None
        for fault, _index in due:
            if fault.kind in self.extra_fault_kinds:
                response = getattr(self, f"_fault_{fault.kind}")(fault, request) or response
        if answer_fault is not None:
            fault, index = answer_fault
            if fault.kind == "reset":
                handler.reset_connection()
                return None
            if fault.kind == "http_5xx":
                return fault.http_5xx_response(index)
            if fault.kind == "rate_limit":
                return self._rate_limited(float(fault.params.get("retry_after", 1)))
        if response is None:
            response = route.handler(request, **params) if route else self.not_found(request)
        if answer_fault is not None and answer_fault[0].kind == "malformed_json":
            response = truncate_json(response)
        return self._slow_body(due, response)

    @staticmethod
    def _slow_body(due, response: Response) -> Response:
        for fault, _index in due:
            if fault.kind == "slow_body":
                response.trickle = fault.trickle
        return response

    def _rate_limited(self, retry_after: float) -> Response:
        """429 with ``Retry-After`` (whole seconds unless a fault asked for a fraction)."""
        value = int(retry_after) if float(retry_after).is_integer() else retry_after
        response = self.rate_limit_response(value)
        response.headers = {**(response.headers or {}), "Retry-After": str(value)}
        return response

    accepts_gzip = staticmethod(accepts_gzip)

    # -- control endpoints -----------------------------------------------------------------
    def _register_control_routes(self):
        self.control_route("GET", "health", self._ctl_health)
        self.control_route("GET", "requests", self._ctl_requests)
        self.control_route("POST", "reset", self._ctl_reset)
        self.control_route("GET", "counts", lambda request: json_response(self.counts()))
        self.control_route("GET", "faults", self._ctl_faults)
        self.control_route("POST", "faults", self._ctl_set_fault)
        self.control_route("DELETE", "faults", self._ctl_clear_faults)
        self.control_route("POST", "config", self._ctl_config)

    def _ctl_health(self, request):
        return json_response({"status": "ok", "service": self.name, "base_url": self.base_url,
                              "requests": sum(self.counts().values()), "errors": self.errors[-10:]})

    def _ctl_requests(self, request):
        rows = self.requests
        label = request.query.get("label")
        if label:
            rows = [r for r in rows if r.label == label]
        if request.query.get("limit"):
            rows = rows[-int(request.query["limit"]):]
        return json_response([r.to_dict() for r in rows])

    def _ctl_reset(self, request):
        self.reset()
        return json_response({"status": "ok"})

    def _ctl_faults(self, request):
        return json_response([f.to_dict() for f in self.faults()])

    def _ctl_set_fault(self, request):
        payload = json.loads(request.body or b"{}")
        if not isinstance(payload, dict) or "kind" not in payload:
            raise ValueError('expected a JSON object {"kind": ..., "count": ...}')
        kind = payload.pop("kind")
        count = payload.pop("count", 1)
        fault = self.set_fault(kind, count, **payload)
        return json_response(fault.to_dict())

    def _ctl_clear_faults(self, request):
        self.clear_faults(request.query.get("kind") or None)
        return json_response({"status": "ok"})

    def _ctl_config(self, request):
        payload = json.loads(request.body or b"{}")
        if "latency" in payload:
            self.latency = float(payload["latency"])
        if "rate_limit_per_second" in payload:
            self.rate_limit_per_second = float(payload["rate_limit_per_second"])
        return json_response({"latency": self.latency,
                              "rate_limit_per_second": self.rate_limit_per_second})

