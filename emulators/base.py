"""Shared machinery of the local service emulators.

An :class:`Emulator` is a small threaded HTTP/1.1 server (standard library only) with

* a router: method + regular expression on the *raw* (still percent-encoded) path, without the
  query string, so handlers can see separators such as a literal ``%2C`` exactly as sent;
* request recording (:class:`RecordedRequest`, bounded by ``record_limit``) and per-route counters;
* switchable faults for API routes (``http_5xx``, ``timeout``, ``slow``, ``malformed_json``,
  ``rate_limit``, ``reset``; subclasses add their own kinds), a global ``latency`` and a global
  ``rate_limit_per_second``;
* control endpoints under ``/_emulator/`` (never recorded, never faulted).

It is used by tests, the demo and benchmarks of 100,000 products, so the hot path avoids
per-request logging, answers with one socket write (keep-alive, ``Content-Length`` always set)
and looks routes and data up in dictionaries.

This package imports nothing from odoo and only relative modules inside itself: Odoo imports it as
``odoo.addons.supplier_connector.emulators``, scripts and pytest as ``emulators``.
"""

from __future__ import annotations

import email.utils
import gzip as gzip_module
import json
import math
import re
import socket
import struct
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from urllib.parse import parse_qsl, unquote

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

BUILTIN_FAULT_KINDS = ("http_5xx", "timeout", "slow", "malformed_json", "rate_limit", "reset")
# Faults that replace the answer: at most one of them applies to a request (the oldest set first).
_ANSWER_FAULTS = frozenset({"http_5xx", "malformed_json", "rate_limit", "reset"})
_DELAY_FAULTS = frozenset({"timeout", "slow"})
_DEFAULT_DELAY = {"timeout": 5.0, "slow": 1.0}
CONTROL_PREFIX = "/_emulator/"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(slots=True)
class RecordedRequest:
    """One request as the emulator received it.

    ``path`` is decoded and has no query string; ``raw_path`` is the request target exactly as
    received (percent escapes and query string included); ``query`` holds the decoded query
    parameters (the last value wins when a name repeats).
    """

    method: str
    path: str
    query: dict[str, str]
    raw_path: str
    headers: dict[str, str]
    body: bytes
    at: float
    label: str = ""

    def json(self):
        return json.loads(self.body) if self.body else None

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "raw_path": self.raw_path,
            "headers": self.headers,
            "body": self.body.decode("utf-8", "replace"),
            "at": self.at,
            "label": self.label,
        }


@dataclass(slots=True)
class Response:
    """What a handler returns. ``gzip=True`` compresses when the client accepts gzip."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON_CONTENT_TYPE
    headers: dict[str, str] | None = None
    gzip: bool = False


def json_response(data, status: int = 200, headers: dict | None = None, gzip: bool = False):
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(status, body, JSON_CONTENT_TYPE, headers, gzip)


def text_response(text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8",
                  headers: dict | None = None):
    return Response(status, text.encode(), content_type, headers)


def make_png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (200, 60, 40)) -> bytes:
    """A valid solid-colour RGB PNG, built with zlib and struct only."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


@dataclass
class Fault:
    """A switched-on fault. ``count=None`` applies until cleared; ``after`` lets that many API
    requests through untouched before the fault starts."""

    kind: str
    count: int | None = 1
    after: int = 0
    params: dict = field(default_factory=dict)
    applied: int = 0

    def to_dict(self) -> dict:
        return {"kind": self.kind, "count": self.count, "after": self.after,
                "applied": self.applied, **self.params}


@dataclass(slots=True)
class _Route:
    method: str
    regex: re.Pattern
    handler: Callable
    label: str


_HTML_5XX = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Keep-alive connections sit in their threads; stop() closes them instead of joining.
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256
    emulator: Emulator

    def server_bind(self):
        # HTTPServer.server_bind resolves the host's FQDN, which can hang without DNS.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            self.emulator.errors.append(repr(exc))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SupplierEmulator/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300  # an idle keep-alive connection is dropped after this many seconds
    server: _Server

    def log_message(self, format, *args):
        pass

    def setup(self):
        super().setup()
        self.server.emulator._track_connection(self.connection, True)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.emulator._track_connection(self.connection, False)

    def _dispatch(self):
        self.server.emulator._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


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
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._date_cache = (0, "")
        self._register_control_routes()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self):
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), _Handler)
        server.emulator = self
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

        Parameters: ``after`` (let N requests through first) for every kind; ``seconds`` for
        ``timeout`` (default 5) and ``slow`` (default 1); ``retry_after`` for ``rate_limit``
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

    def _take_faults(self) -> list[tuple[Fault, int]]:
        """Under the lock: the faults due for this request, with their application index."""
        due = []
        answer_taken = False
        for kind, fault in list(self._faults.items()):
            if fault.after:
                fault.after -= 1
                continue
            if kind in _ANSWER_FAULTS:
                if answer_taken:
                    continue
                answer_taken = True
            due.append((fault, fault.applied))
            fault.applied += 1
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    del self._faults[kind]
        return due

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

    # -- request handling ------------------------------------------------------------------
    def _read_body(self, handler: _Handler) -> bytes:
        headers = handler.headers
        length = headers.get("Content-Length")
        if length:
            return handler.rfile.read(int(length))
        if "chunked" in headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if not size:
                    while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(handler.rfile.read(size))
                handler.rfile.readline()
            return b"".join(parts)
        return b""

    def _handle(self, handler: _Handler):
        raw_path = handler.path
        raw, _, query_string = raw_path.partition("?")
        method = handler.command
        body = self._read_body(handler)
        request = RecordedRequest(
            method, unquote(raw), dict(parse_qsl(query_string, keep_blank_values=True)),
            raw_path, dict(handler.headers.items()), body, time.time())
        try:
            if raw.startswith(CONTROL_PREFIX):
                response = self._handle_control(request, method, raw)
            else:
                response = self._handle_api(request, method, raw, handler)
        except Exception as exc:  # noqa: BLE001 - an emulator bug must not kill the connection
            self.errors.append(f"{method} {raw_path}: {exc!r}")
            response = text_response(f"emulator error: {exc!r}", 500)
        if response is None:  # the connection was reset on purpose
            return
        self._send(handler, request, response)

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
            due = self._take_faults() if self._faults else ()
        delay = self.latency
        answer_fault = None
        for fault, index in due:
            if fault.kind in _DELAY_FAULTS:
                delay += float(fault.params.get("seconds", _DEFAULT_DELAY[fault.kind]))
            elif fault.kind in _ANSWER_FAULTS:
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
                self._reset_connection(handler)
                return None
            if fault.kind == "http_5xx":
                statuses = fault.params.get("statuses") or (500, 502, 503)
                code = int(statuses[index % len(statuses)])
                html = _HTML_5XX.format(code=code, phrase=_phrase(code))
                return text_response(html, code, "text/html")
            if fault.kind == "rate_limit":
                return self._rate_limited(float(fault.params.get("retry_after", 1)))
        if response is None:
            response = route.handler(request, **params) if route else self.not_found(request)
        if answer_fault is not None and answer_fault[0].kind == "malformed_json":
            response = _truncate_json(response)
        return response

    def _rate_limited(self, retry_after: float) -> Response:
        """429 with ``Retry-After`` (whole seconds unless a fault asked for a fraction)."""
        value = int(retry_after) if float(retry_after).is_integer() else retry_after
        response = self.rate_limit_response(value)
        response.headers = {**(response.headers or {}), "Retry-After": str(value)}
        return response

    @staticmethod
    def _reset_connection(handler: _Handler):
        handler.close_connection = True
        conn = handler.connection
        try:
            # SO_LINGER 0: close() sends RST, the client sees "connection reset by peer".
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        except OSError:
            pass

    def _http_date(self) -> str:
        now = int(time.time())
        if self._date_cache[0] != now:
            self._date_cache = (now, email.utils.formatdate(now, usegmt=True))
        return self._date_cache[1]

    @staticmethod
    def accepts_gzip(request: RecordedRequest) -> bool:
        for part in request.headers.get("Accept-Encoding", "").lower().split(","):
            name, _, q = part.strip().partition(";")
            if name in ("gzip", "*") and q.replace(" ", "") not in ("q=0", "q=0.0"):
                return True
        return False

    def _send(self, handler: _Handler, request: RecordedRequest, response: Response):
        body = response.body
        lines = [
            f"HTTP/1.1 {response.status} {_phrase(response.status)}\r\n",
            f"Server: {handler.server_version}\r\nDate: {self._http_date()}\r\n",
            f"Content-Type: {response.content_type}\r\n",
        ]
        if response.gzip:
            lines.append("Vary: Accept-Encoding\r\n")
            if body and self.accepts_gzip(request):
                body = gzip_module.compress(body, compresslevel=5)
                lines.append("Content-Encoding: gzip\r\n")
        if response.headers:
            lines.extend(f"{k}: {v}\r\n" for k, v in response.headers.items())
        if handler.close_connection:
            lines.append("Connection: close\r\n")
        lines.append(f"Content-Length: {len(body)}\r\n\r\n")
        head = "".join(lines).encode("latin-1")
        try:
            handler.wfile.write(head if request.method == "HEAD" else head + body)
        except OSError:  # the client gave up (e.g. its timeout was shorter than our delay)
            handler.close_connection = True

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


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _truncate_json(response: Response) -> Response:
    body = response.body
    if body[:1] not in (b"{", b"["):
        body = b'{"status":{"code":200,"message":""},"data":{}}'
    # Any proper prefix of a JSON object or array is invalid JSON.
    return Response(200, body[: max(1, len(body) // 2)], JSON_CONTENT_TYPE, response.headers)
