"""Pure-Python clients for the supplier services: no Odoo imports, relative imports only.

Odoo imports this package as ``odoo.addons.supplier_connector.api``, the unit tests as ``api``.
"""

from .base import HttpClient, LoginGuard, SessionState
from .errors import (
    ApiError,
    AuthError,
    BadResponse,
    LoginBlocked,
    NotFound,
    RateLimited,
    RequestRejected,
    ServiceUnavailable,
    SessionExpired,
    TooLarge,
    UnsafeUrl,
)
from .etm import ETM_DEFAULT_URL, EtmClient

__all__ = [
    "ETM_DEFAULT_URL",
    "ApiError",
    "AuthError",
    "BadResponse",
    "EtmClient",
    "HttpClient",
    "LoginBlocked",
    "LoginGuard",
    "NotFound",
    "RateLimited",
    "RequestRejected",
    "ServiceUnavailable",
    "SessionExpired",
    "SessionState",
    "TooLarge",
    "UnsafeUrl",
]
