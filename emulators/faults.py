"""Switchable faults of the emulators (API routes only, never the /_emulator/ control routes).

Built-in kinds:

* ``http_5xx`` — answer 500, 502, 503 in turn (``statuses`` to choose) with an nginx-like HTML body;
* ``timeout`` — sleep ``seconds`` (default 5) before answering, for clients with shorter timeouts;
* ``slow`` — add ``seconds`` (default 1) of latency, then answer normally;
* ``slow_body`` — send the status line and headers at once, then the body ``piece`` bytes
  (default 1) every ``seconds`` (default 1): every read is quick, the whole answer is not;
* ``malformed_json`` — answer 200 with the real JSON answer cut in half;
* ``rate_limit`` — answer 429 with ``Retry-After: retry_after`` (default 1);
* ``reset`` — close the connection without an answer (TCP RST).

Every fault takes ``count`` (requests it applies to, default 1, ``None`` until cleared) and
``after`` (API requests let through untouched first), and optionally ``match``: a regular
expression searched in the request's raw path and its body (as text); the fault then applies
only to the requests it matches, and ``after``/``count`` count those requests only (e.g. every
price request that asks for one product code). An emulator may add kinds of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .server import JSON_CONTENT_TYPE, Response, phrase, text_response

__all__ = ["BUILTIN_FAULT_KINDS", "Fault", "take_due_faults"]

BUILTIN_FAULT_KINDS = (
    "http_5xx", "timeout", "slow", "slow_body", "malformed_json", "rate_limit", "reset",
)
# Faults that replace the answer: at most one applies to a request (the one set first).
ANSWER_FAULTS = frozenset({"http_5xx", "malformed_json", "rate_limit", "reset"})
DELAY_FAULTS = {"timeout": 5.0, "slow": 1.0}  # kind → default seconds

_HTML_5XX = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass
class Fault:
    """A switched-on fault; ``applied`` counts the requests it has hit so far."""

    kind: str
    count: int | None = 1
    after: int = 0
    params: dict = field(default_factory=dict)
    applied: int = 0

    def to_dict(self) -> dict:
        return {"kind": self.kind, "count": self.count, "after": self.after,
                "applied": self.applied, **self.params}

    @property
    def delay(self) -> float:
        return float(self.params.get("seconds", DELAY_FAULTS[self.kind]))

    @property
    def trickle(self) -> tuple[float, int]:
        """``slow_body``: (seconds between pieces, bytes per piece)."""
        return (float(self.params.get("seconds", 1.0)), max(1, int(self.params.get("piece", 1))))

    def matches(self, request) -> bool:
        """True when the fault has no ``match`` or ``request`` (path or body) matches it."""
        pattern = self.params.get("match")
        if not pattern:
            return True
        if request is None:
            return False
        body = request.body.decode("utf-8", "replace") if request.body else ""
        return re.search(pattern, f"{request.raw_path}\n{body}") is not None

    def http_5xx_response(self, index: int) -> Response:
        statuses = self.params.get("statuses") or (500, 502, 503)
        code = int(statuses[index % len(statuses)])
        return text_response(_HTML_5XX.format(code=code, phrase=phrase(code)), code, "text/html")


def take_due_faults(faults: dict[str, Fault], request=None) -> list[tuple[Fault, int]]:
    """The faults due for one API request, with each one's application index; consumes them.
    The caller holds the emulator's lock."""
    due = []
    answer_taken = False
    for kind, fault in list(faults.items()):
        if not fault.matches(request):
            continue
        if fault.after:
            fault.after -= 1
            continue
        if kind in ANSWER_FAULTS:
            if answer_taken:
                continue
            answer_taken = True
        due.append((fault, fault.applied))
        fault.applied += 1
        if fault.count is not None:
            fault.count -= 1
            if fault.count <= 0:
                del faults[kind]
    return due


def truncate_json(response: Response) -> Response:
    """200 with the answer's JSON cut in half (any proper prefix of an object is invalid)."""
    body = response.body
    if body[:1] not in (b"{", b"["):
        body = b'{"status":{"code":200,"message":""},"data":{}}'
    return Response(200, body[: max(1, len(body) // 2)], JSON_CONTENT_TYPE, response.headers)
