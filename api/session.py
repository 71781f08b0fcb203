"""Login sessions that outlive one run, and the rules that keep us from hammering a login.

Suppliers block accounts that log in too often or keep sending rejected credentials, and some
(MoySklad) revoke older tokens when a new one is issued. So every client that logs in keeps a
``SessionState`` the caller persists between runs, and asks a ``LoginGuard`` before logging in.
All datetimes are naive UTC.
"""

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from .errors import LoginBlocked, SessionExpired


@dataclass
class SessionState:
    token: str | None = None
    expires_at: datetime | None = None
    login_blocked_until: datetime | None = None
    # When the last successful login happened (informational, persisted by the caller).
    logged_in_at: datetime | None = None
    # When the last re-login forced by a refused session happened: at most one per interval.
    relogin_at: datetime | None = None

    def token_valid(self, now, margin=60):
        """True when the token can still be used ``margin`` seconds from now."""
        if not self.token or self.expires_at is None:
            return False
        return now < self.expires_at - timedelta(seconds=margin)

    def to_dict(self):
        """JSON-friendly form (ISO datetimes) for storing on the connection record."""
        values = {}
        for item in fields(self):
            value = getattr(self, item.name)
            values[item.name] = value.isoformat() if isinstance(value, datetime) else value
        return values

    @classmethod
    def from_dict(cls, values):
        values = values or {}
        state = cls()
        state.token = values.get("token") or None
        for name in ("expires_at", "login_blocked_until", "logged_in_at", "relogin_at"):
            setattr(state, name, _parse_datetime(values.get(name)))
        return state


def _parse_datetime(value):
    if isinstance(value, datetime) or value is None:
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


class LoginGuard:
    """Decides whether a login may be sent now, and records its outcome in the state."""

    def __init__(
        self, state, *, now, ttl, retry_delay, min_interval, margin=60, service="the service"
    ):
        self.state = state
        self.now = now
        self.ttl = ttl
        self.retry_delay = retry_delay
        self.min_interval = min_interval
        self.margin = margin
        self.service = service

    def usable_token(self):
        return self.state.token if self.state.token_valid(self.now(), self.margin) else None

    def check_allowed(self, forced=False):
        """Raise instead of logging in when the account was rejected, or when a refused session
        already forced a re-login less than ``min_interval`` ago (``forced``: this login is
        because the service refused the session)."""
        now = self.now()
        blocked_until = self.state.login_blocked_until
        if blocked_until is not None and now < blocked_until:
            raise LoginBlocked(
                f"Login to {self.service} was rejected earlier; not trying again before "
                f"{blocked_until:%Y-%m-%d %H:%M} UTC",
                blocked_until=blocked_until,
            )
        last = self.state.relogin_at
        if (
            forced
            and last is not None
            and timedelta(0) <= now - last < timedelta(seconds=self.min_interval)
        ):
            # One re-login cures a session that died (expired, or replaced by another login);
            # a second one so soon would not, and only looks like hammering to the supplier.
            raise SessionExpired(
                f"{self.service} refused a session created less than {self.min_interval} s ago; "
                "not logging in again yet"
            )

    def record_success(self, token, ttl=None, forced=False):
        now = self.now()
        self.state.token = token
        self.state.expires_at = now + timedelta(seconds=self.ttl if ttl is None else ttl)
        self.state.logged_in_at = now
        if forced:
            self.state.relogin_at = now
        self.state.login_blocked_until = None

    def record_rejection(self):
        self.invalidate()
        self.state.login_blocked_until = self.now() + timedelta(seconds=self.retry_delay)
        return self.state.login_blocked_until

    def invalidate(self):
        self.state.token = None
        self.state.expires_at = None


class SessionClientMixin:
    """For clients that log in: the LoginGuard, the ``session_state`` the caller persists between
    runs, and every token held, so that redaction hides even one a service message quotes later.

    Call ``_init_session(session_state, **guard_options)`` from ``__init__`` after the base
    client is set up (it needs ``self.now`` and ``self.service_name``).
    """

    def _init_session(self, session_state, **guard_options):
        self._guard = LoginGuard(
            session_state or SessionState(),
            now=self.now,
            service=self.service_name,
            **guard_options,
        )
        self._tokens = set()
        self._remember(self._guard.state.token)

    @property
    def session_state(self):
        return self._guard.state

    @session_state.setter
    def session_state(self, state):
        self._guard.state = state or SessionState()
        self._remember(self._guard.state.token)

    def _remember(self, token):
        if token:
            self._tokens.add(token)
