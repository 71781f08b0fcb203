"""Typed errors raised by the API clients.

The Odoo layer maps ``code`` to a translated message for users, so the codes are part of the
contract and must not change. ``message`` is English and never holds secrets or URLs with query
strings; ``detail`` is the service's own text (already redacted by the client), '' when none.
"""


class ApiError(Exception):
    code = "error"
    retryable = False

    def __init__(self, message, *, status=None, detail="", retryable=None):
        super().__init__(message)
        self.message = str(message)
        self.status = status
        self.detail = detail or ""
        if retryable is not None:
            self.retryable = retryable

    def __str__(self):
        if self.detail and self.detail not in self.message:
            return f"{self.message}: {self.detail}"
        return self.message


class AuthError(ApiError):
    """The service rejected the credentials."""

    code = "auth"


class LoginBlocked(AuthError):
    """A login was rejected recently: no new try before ``blocked_until`` (naive UTC)."""

    code = "login_blocked"

    def __init__(self, message, *, blocked_until=None, **kwargs):
        super().__init__(message, **kwargs)
        self.blocked_until = blocked_until


class SessionExpired(ApiError):
    """The session was refused even after logging in again; a later run logs in afresh."""

    code = "session"
    retryable = True


class NotFound(ApiError):
    code = "not_found"


class RequestRejected(ApiError):
    """The service refused the request itself (HTTP 400 or an error status in the body)."""

    code = "rejected"


class RateLimited(ApiError):
    """Too many requests; ``retry_after`` says how many seconds to wait (None if unknown)."""

    code = "rate_limited"
    retryable = True

    def __init__(self, message, *, retry_after=None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailable(ApiError):
    """5xx answers, connection errors or timeouts, after the retries were used up."""

    code = "unavailable"
    retryable = True


class BadResponse(ApiError):
    """The answer was malformed or not what the protocol says."""

    code = "bad_response"


class UnsafeUrl(ApiError):
    """A download URL was refused (scheme, host or redirect policy)."""

    code = "unsafe_url"


class TooLarge(ApiError):
    """A download exceeded its size cap."""

    code = "too_large"


class DownloadNotFound(ApiError):
    """The file to download is gone (HTTP 404/410). Not ``NotFound``: that one means the
    supplier does not know a product code, and a stale file link says nothing about that."""

    code = "download_not_found"


class DownloadTimeout(ServiceUnavailable):
    """A download did not finish within its total deadline (a server trickling the body keeps
    every socket read under the timeout, so only a deadline ends it). The next run tries again."""

    code = "download_timeout"


class OutcomeUnknown(ApiError):
    """A non-idempotent request (an order) was sent but its answer was lost (timeout, dropped
    connection, 5xx, garbled body): it may or may not have taken effect. Never re-send blindly:
    look it up at the service first (Shate-M: ``get_orders``)."""

    code = "outcome_unknown"


class AlreadyExists(RequestRejected):
    """A create was refused because the service already holds an object with our id (a lost
    answer to an earlier create, or a second Odoo sending the same record). Not a failure for the
    caller: adopt the existing object. ``existing_id`` is the service's id when the answer gave
    it, else None (IMSKLAD: an ``update_*`` with the same payload returns it)."""

    code = "already_exists"

    def __init__(self, message, *, existing_id=None, **kwargs):
        super().__init__(message, **kwargs)
        self.existing_id = existing_id
