"""HTTP primitives of the emulators: the threaded HTTP/1.1 server, requests as recorded, answers.

Kept fast for benchmarks: keep-alive, one socket write per answer (status line, headers and body
together, ``Content-Length`` always set, Nagle off), no per-request logging.
"""

from __future__ import annotations

import email.utils
import gzip as gzip_module
import json
import socket
import struct
import sys
import time
import zlib
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from urllib.parse import parse_qsl, unquote

__all__ = [
    "JSON_CONTENT_TYPE",
    "RecordedRequest",
    "Response",
    "accepts_gzip",
    "json_response",
    "make_png",
    "text_response",
]

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(slots=True)
class RecordedRequest:
    """One request as the emulator received it.

    ``path`` is decoded and has no query string; ``raw_path`` is the request target exactly as
    received (percent escapes and query string included); ``query`` holds the decoded query
    parameters (the last value wins when a name repeats); ``label`` names the matched route.
    """

    method: str
    path: str
    query: dict[str, str]
    raw_path: str
    headers: dict[str, str]
    body: bytes
    at: float
    label: str = ""

    def header(self, name: str, default: str = "") -> str:
        """A header by case-insensitive name (``headers`` keeps the names as sent)."""
        value = self.headers.get(name)
        if value is not None:
            return value
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default

    def json(self):
        return json.loads(self.body) if self.body else None

    def query_items(self) -> list[tuple[str, str]]:
        """Every decoded query parameter in order, repeated names included."""
        return parse_qsl(self.raw_path.partition("?")[2], keep_blank_values=True)

    def form(self) -> dict[str, str]:
        """The fields of an ``application/x-www-form-urlencoded`` body (the last value wins
        when a name repeats); empty for any other content type."""
        if "x-www-form-urlencoded" not in self.header("Content-Type").lower():
            return {}
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def bearer_token(self) -> str | None:
        """The token of an ``Authorization: Bearer <token>`` header (scheme in any case)."""
        scheme, _, token = self.header("Authorization").strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None

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
    """What a handler returns. ``gzip=True`` compresses when the client accepts gzip.
    ``trickle`` (seconds, bytes): the body goes out that many bytes at a time, with that pause
    before each piece (the ``slow_body`` fault)."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON_CONTENT_TYPE
    headers: dict[str, str] | None = None
    gzip: bool = False
    trickle: tuple[float, int] | None = None


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


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def accepts_gzip(request: RecordedRequest) -> bool:
    for part in request.header("Accept-Encoding").lower().split(","):
        name, _, q = part.strip().partition(";")
        if name in ("gzip", "*") and q.replace(" ", "") not in ("q=0", "q=0.0"):
            return True
    return False


_date_cache = [0, ""]


def _http_date() -> str:
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[:] = [now, email.utils.formatdate(now, usegmt=True)]
    return _date_cache[1]


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    # Keep-alive connections sit in their threads; Emulator.stop() closes them, never joins.
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, emulator):
        self.emulator = emulator
        super().__init__(address, EmulatorRequestHandler)

    def server_bind(self):
        # HTTPServer.server_bind resolves the host's FQDN, which can hang without DNS.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            self.emulator.errors.append(repr(exc))


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    """Reads a request into a :class:`RecordedRequest`, lets the emulator answer it."""

    protocol_version = "HTTP/1.1"
    server_version = "SupplierEmulator/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 300  # an idle keep-alive connection is dropped after this many seconds
    server: EmulatorServer

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
        raw_path = self.path
        raw, _, query_string = raw_path.partition("?")
        request = RecordedRequest(
            self.command, unquote(raw), dict(parse_qsl(query_string, keep_blank_values=True)),
            raw_path, dict(self.headers.items()), self._read_body(), time.time())
        response = self.server.emulator._handle(request, raw, self)
        if response is not None:  # None: the connection was reset on purpose
            self.write_response(request, response)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if not size:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        return b""

    def write_response(self, request: RecordedRequest, response: Response):
        body = response.body
        lines = [
            f"HTTP/1.1 {response.status} {phrase(response.status)}\r\n",
            f"Server: {self.server_version}\r\nDate: {_http_date()}\r\n",
            f"Content-Type: {response.content_type}\r\n",
        ]
        if response.gzip:
            lines.append("Vary: Accept-Encoding\r\n")
            if body and accepts_gzip(request):
                body = gzip_module.compress(body, compresslevel=5)
                lines.append("Content-Encoding: gzip\r\n")
        if response.headers:
            lines.extend(f"{k}: {v}\r\n" for k, v in response.headers.items())
        if self.close_connection:
            lines.append("Connection: close\r\n")
        lines.append(f"Content-Length: {len(body)}\r\n\r\n")
        head = "".join(lines).encode("latin-1")
        if request.method == "HEAD":
            body = b""
        try:
            if response.trickle and body:
                self._trickle(head, body, *response.trickle)
            else:
                self.wfile.write(head + body)
        except OSError:  # the client gave up (e.g. its timeout was shorter than our delay)
            self.close_connection = True

    def _trickle(self, head: bytes, body: bytes, seconds: float, piece: int):
        emulator = self.server.emulator
        self.wfile.write(head)
        self.wfile.flush()
        for start in range(0, len(body), piece):
            emulator.sleep(seconds)
            if emulator.stopping:
                self.close_connection = True
                return
            self.wfile.write(body[start : start + piece])
            self.wfile.flush()

    def reset_connection(self):
        """Drop the connection without an answer: SO_LINGER 0 makes the close send RST."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
