"""The MoySklad emulator's protocol rules: error bodies, authentication and tokens, request
weights, the 45-units-per-3-seconds window, the parallel-request limit and the API lockout.

* Errors are ``{"errors": [{"error", "code", "parameter"?, "moreInfo"}]}`` (:class:`MsError`);
  ``moreInfo`` links the official error table (``…/1.2/#error_<code>``).
* Authentication: ``Basic`` login/password of a configured user, or ``Bearer`` token: a user
  token issued by ``POST security/token`` (issuing revokes the user's older tokens) or an
  application token configured on the emulator. Unknown credentials → 401, code 1056 ("Ошибка
  аутентификации: …"), with the headers ``X-Lognex-Auth`` and ``X-Lognex-Auth-Message``; a revoked
  or expired token says so in the message.
* Weights (:class:`Weights`): a request costs ``app_token`` units (default 1) with an application
  token, ``user`` units with login/password or a user token — the official schedule for 2026
  (1 until 11 May, 2 from 12 May, 3 from 1 September, 4 from 1 December), taken from the
  emulator's clock unless set; ``report/stock/all…`` and ``report/stock/bystore…`` (``/current``
  included) always cost 5.
* :class:`Limiter`: a sliding 3-second window per user or application token (limits are per
  user and per solution since February 2026). A request whose weight does not fit is answered 429
  with code 1049 and costs nothing. Headers on every authenticated answer: ``X-RateLimit-Limit``
  (45), ``X-RateLimit-Remaining`` (units left), ``X-Lognex-Retry-TimeInterval`` (3000),
  ``X-Lognex-Reset`` (ms until the window is empty, 0 when it is); on 429 also
  ``X-Lognex-Retry-After`` (ms until this request's weight fits).
* Login attempts: after ``login_failures_limit`` (20) wrong passwords for one login within
  ``login_failures_window`` (60 s), Basic auth for that login answers 401 code 1048 (even with
  the right password) until the oldest failure leaves the window (numbers ours: the
  documentation names the error only).
* Parallel limit: more than 5 requests of one user at once → 429, code 1073 (no rate headers, as
  the documentation says they do not show this limit).
* :class:`Lockout`: more than ``threshold`` (200) requests a minute answered 429, more than 200
  identical (method and path) requests a minute answered an error, or more than
  ``put_threshold`` (100) PUT requests a minute to one entity, switch the user's API access
  off for ``seconds`` (3600): every request is then answered 403, code 1061 (the documentation
  gives no code for the switch-off; 1061 is "no API access for this user").
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field

from .server import JSON_CONTENT_TYPE, Response, json_response

MORE_INFO = "https://dev.moysklad.ru/doc/api/remap/1.2/#error_{code}"
ACCEPT_VALUE = "application/json;charset=utf-8"
HEAVY_PREFIXES = ("report/stock/all", "report/stock/bystore")
HEAVY_WEIGHT = 5
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class MsError(Exception):
    """An error answer: HTTP ``status`` with one or more error objects."""

    def __init__(self, status: int, code: int, message: str, parameter: str | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter
        self.headers = headers
        self.extra = extra

    def item(self) -> dict:
        error = {"error": self.message, "code": self.code}
        if self.parameter:
            error["parameter"] = self.parameter
        error["moreInfo"] = MORE_INFO.format(code=self.code)
        error.update(self.extra)
        return error

    def body(self) -> dict:
        return {"errors": [self.item()]}

    def response(self) -> Response:
        return json_response(self.body(), self.status, dict(self.headers or {}), gzip=True)


def empty_415() -> Response:
    return Response(415, b"", JSON_CONTENT_TYPE)


def wants_gzip(header: str) -> bool:
    """True when ``Accept-Encoding`` names gzip (not refused with q=0). ``*`` is not enough:
    the service serves gzip only and asks for it by name."""
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() == "gzip" and params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00"):
            return True
    return False


def accept_ok(header: str, strict: bool) -> bool:
    """``Accept`` must list ``application/json;charset=utf-8`` (spaces and case aside); when not
    ``strict`` a missing header, ``*/*`` and ``application/json`` pass too."""
    values = [part.replace(" ", "").lower() for part in header.split(",") if part.strip()]
    if ACCEPT_VALUE in values:
        return True
    if strict:
        return False
    return not values or any(v.split(";")[0] in ("*/*", "application/*", "application/json")
                             for v in values)


# -- authentication -----------------------------------------------------------------------------
@dataclass
class Principal:
    login: str
    kind: str  # "basic", "user_token" or "app_token"
    key: str  # the limit bucket: the user's login, or "app:<name>"


@dataclass
class Token:
    value: str
    login: str
    issued: float
    revoked: str = ""  # "" active, else why ("revoked", "expired")


def auth_error(message: str) -> MsError:
    text = f"Ошибка аутентификации: {message}"
    return MsError(401, 1056, text, headers={"X-Lognex-Auth": "1056",
                                             "X-Lognex-Auth-Message": "Authentication failed"})


class Auth:
    """Users (login → password), user tokens and application tokens (token → name)."""

    def __init__(self, users: dict[str, str], app_tokens: dict[str, str] | None, clock,
                 token_ttl: float | None = None, login_failures_limit: int = 20,
                 login_failures_window: float = 60.0):
        self.login_failures_limit = login_failures_limit
        self.login_failures_window = login_failures_window
        self._login_failures: dict[str, deque] = {}
        self.users = dict(users)
        self.app_tokens = dict(app_tokens or {})
        self.clock = clock
        self.token_ttl = token_ttl
        self.tokens: dict[str, Token] = {}
        self.issued_count = 0
        self.lock = threading.Lock()

    def issue(self, login: str) -> Token:
        with self.lock:
            for token in self.tokens.values():
                if token.login == login and not token.revoked:
                    token.revoked = "revoked"
            token = Token(secrets.token_hex(20), login, self.clock())
            self.tokens[token.value] = token
            self.issued_count += 1
            return token

    def revoke(self, login: str | None = None, value: str | None = None,
               reason: str = "revoked") -> int:
        """Revoke (or expire) the tokens of ``login`` or the token ``value``; returns how many."""
        done = 0
        with self.lock:
            for token in self.tokens.values():
                if token.revoked or (value and token.value != value) or (
                        login and token.login != login):
                    continue
                token.revoked = reason
                done += 1
        return done

    @staticmethod
    def guess_key(header: str, auth: Auth) -> str:
        """The limit bucket of a request without validating it (for the parallel counter)."""
        scheme, _, rest = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            try:
                return base64.b64decode(rest.strip()).decode("utf-8").partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                return "?"
        if scheme == "bearer":
            value = rest.strip()
            if value in auth.app_tokens:
                return f"app:{auth.app_tokens[value]}"
            token = auth.tokens.get(value)
            return token.login if token else "?"
        return "?"

    def _check_login_attempts(self, login: str):
        """1048 while a login has ``login_failures_limit`` failed checks in the window."""
        if not self.login_failures_limit:
            return
        with self.lock:
            failures = self._login_failures.get(login)
            if not failures:
                return
            while failures and failures[0] <= self.clock() - self.login_failures_window:
                failures.popleft()
            blocked = len(failures) >= self.login_failures_limit
        if blocked:
            raise MsError(401, 1048, "Превышено ограничение на количество попыток проверки "
                                     "имени и пароля",
                          headers={"X-Lognex-Auth": "1048",
                                   "X-Lognex-Auth-Message": "Too many login attempts"})

    def authenticate(self, header: str, basic_only: bool = False) -> Principal:
        scheme, _, rest = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            try:
                login, _, password = base64.b64decode(rest.strip(), validate=True).decode(
                    "utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                raise auth_error("неверный формат заголовка Authorization") from None
            self._check_login_attempts(login)
            if self.users.get(login) != password or not login:
                with self.lock:
                    self._login_failures.setdefault(login, deque()).append(self.clock())
                raise auth_error("Неправильный пароль или имя пользователя или ключ "
                                 "авторизации")
            return Principal(login, "basic", login)
        if basic_only:
            raise auth_error("для получения токена нужна аутентификация по логину и паролю")
        if scheme == "bearer":
            value = rest.strip()
            if value in self.app_tokens:
                name = self.app_tokens[value]
                return Principal(name, "app_token", f"app:{name}")
            with self.lock:
                token = self.tokens.get(value)
                if token and not token.revoked and self.token_ttl and (
                        self.clock() - token.issued > self.token_ttl):
                    token.revoked = "expired"
            if token is None:
                raise auth_error("Неправильный пароль или имя пользователя или ключ "
                                 "авторизации")
            if token.revoked == "expired":
                raise auth_error("срок действия токена доступа истёк")
            if token.revoked:
                raise auth_error("токен доступа отозван")
            if token.login not in self.users:
                raise auth_error("пользователь заблокирован")
            return Principal(token.login, "user_token", token.login)
        raise auth_error("не указан заголовок Authorization")


# -- weights and limits --------------------------------------------------------------------------
_USER_SCHEDULE = ((dt.date(2026, 12, 1), 4), (dt.date(2026, 9, 1), 3),
                  (dt.date(2026, 5, 12), 2))


def scheduled_user_weight(day: dt.date) -> int:
    for start, weight in _USER_SCHEDULE:
        if day >= start:
            return weight
    return 1


@dataclass
class Weights:
    user: int | None = None  # None: the official schedule on the emulator's date
    app_token: int = 1
    heavy: int = HEAVY_WEIGHT

    def of(self, principal: Principal, path: str, today: dt.date) -> int:
        """``path`` is relative to ``/api/remap/1.2/``."""
        if path.startswith(HEAVY_PREFIXES):
            return self.heavy
        if principal.kind == "app_token":
            return self.app_token
        return self.user if self.user is not None else scheduled_user_weight(today)


@dataclass
class Window:
    entries: deque = field(default_factory=deque)  # (time, units)
    used: int = 0


class Limiter:
    """Sliding window of ``units`` per ``interval`` seconds per key."""

    def __init__(self, units: int = 45, interval: float = 3.0):
        self.units = units
        self.interval = interval
        self.windows: dict[str, Window] = {}

    def _expire(self, window: Window, now: float):
        entries = window.entries
        while entries and entries[0][0] <= now - self.interval:
            window.used -= entries.popleft()[1]

    def take(self, key: str, weight: int, now: float) -> tuple[bool, dict]:
        """Spend ``weight`` units if they fit; (ok, headers). Caller holds the lock."""
        window = self.windows.setdefault(key, Window())
        self._expire(window, now)
        ok = window.used + weight <= self.units
        if ok:
            window.entries.append((now, weight))
            window.used += weight
        headers = self.headers(window, now)
        if not ok:
            headers["X-Lognex-Retry-After"] = str(self._retry_after_ms(window, weight, now))
        return ok, headers

    def headers(self, window: Window, now: float) -> dict:
        reset = 0
        if window.entries:
            reset = max(0, int((window.entries[-1][0] + self.interval - now) * 1000))
        return {"X-RateLimit-Limit": str(self.units),
                "X-RateLimit-Remaining": str(max(0, self.units - window.used)),
                "X-Lognex-Retry-TimeInterval": str(int(self.interval * 1000)),
                "X-Lognex-Reset": str(reset)}

    def _retry_after_ms(self, window: Window, weight: int, now: float) -> int:
        freed = self.units - window.used
        for at, units in window.entries:
            freed += units
            if freed >= weight:
                return max(1, int((at + self.interval - now) * 1000) + 1)
        return int(self.interval * 1000)


class Lockout:
    """API switch-off after too many 429 or identical failing requests in ``window`` seconds."""

    def __init__(self, threshold: int = 200, window: float = 60.0, seconds: float = 3600.0,
                 put_threshold: int = 100):
        self.threshold = threshold
        self.put_threshold = put_threshold
        self._puts: dict[tuple[str, str], deque] = {}
        self.window = window
        self.seconds = seconds
        self.until: dict[str, float] = {}
        self._throttled: dict[str, deque] = {}
        self._failing: dict[tuple[str, str], deque] = {}

    def locked(self, key: str, now: float) -> bool:
        until = self.until.get(key)
        if until is None:
            return False
        if now >= until:
            del self.until[key]
            return False
        return True

    def _count(self, events: deque, now: float) -> int:
        events.append(now)
        while events and events[0] <= now - self.window:
            events.popleft()
        return len(events)

    def record(self, key: str, signature: str, status: int, now: float):
        """Count one answer; caller holds the lock. ``signature`` is "METHOD raw path"."""
        if key in self.until:
            return
        if signature.startswith("PUT "):
            seen = self._count(self._puts.setdefault((key, signature), deque()), now)
            if seen > self.put_threshold:
                self._lock(key, now)
                return
        if status < 400:
            return
        if status == 429:
            seen = self._count(self._throttled.setdefault(key, deque()), now)
        else:
            seen = self._count(self._failing.setdefault((key, signature), deque()), now)
        if seen > self.threshold:
            self._lock(key, now)

    def _lock(self, key: str, now: float):
        self.until[key] = now + self.seconds
        self._throttled.pop(key, None)
        for table in (self._failing, self._puts):
            for pair in [p for p in table if p[0] == key]:
                del table[pair]

    def clear(self):
        self.until.clear()
        self._throttled.clear()
        self._failing.clear()
        self._puts.clear()
