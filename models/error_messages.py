"""Plain-words, translated explanations of what went wrong, for records, logs and notifications.

API errors carry a stable ``code`` (api/errors.py); the user reads the sentence chosen here in
their own language, followed by what the service itself said, if anything.
"""

import logging

from odoo import fields

from ..api.errors import ApiError

_logger = logging.getLogger(__name__)


def _error_sentences(env):
    return {
        "auth": env._(
            "The service rejected the login or password. Check the credentials on the connection."
        ),
        "login_blocked": env._(
            "Login is paused after a rejected login, so that the supplier does not block the "
            "account. Fix the credentials, then press Reset session."
        ),
        "session": env._("The service refused the session even right after a new login."),
        "not_found": env._("The supplier does not know this code."),
        "rejected": env._("The service rejected the request."),
        "rate_limited": env._(
            "The service's request limit was reached; the next run continues where this one "
            "stopped."
        ),
        "unavailable": env._(
            "The service did not answer (time-outs or server errors, retried); the next run "
            "tries again."
        ),
        "bad_response": env._("The service sent an answer that could not be read."),
        "unsafe_url": env._("A download from a host that is not trusted was refused."),
        "too_large": env._("A download was larger than allowed and was stopped."),
        "download_not_found": env._(
            "The file to download no longer exists at the supplier (HTTP 404)."
        ),
        "download_timeout": env._(
            "A download took longer than allowed and was stopped; the next run tries again."
        ),
        "outcome_unknown": env._(
            "The request was sent but no answer came back; it may have been carried out."
        ),
        "circuit_open": env._(
            "Too many requests failed or hit the rate limit within a minute, so the run stopped "
            "itself before MoySklad switches the account's API off for an hour; the next run "
            "continues where this one stopped."
        ),
        "no_api_access": env._(
            "This MoySklad user has no access to the API: an administrator of the MoySklad "
            "account must allow it (user settings), then test the connection again."
        ),
        "plan_required": env._(
            "The MoySklad plan of this account does not include this feature."
        ),
        "already_exists": env._("The service already has an object with this value."),
    }


def error_code(exc):
    return getattr(exc, "code", None) or "internal"


def describe_error(env, exc, log=True):
    """One sentence for the user; never includes credentials (API errors are redacted).

    An unexpected error (not an API error) is logged with its traceback unless ``log`` is
    False (the caller logged it already)."""
    if not isinstance(exc, ApiError):
        if log:
            _logger.exception("Unexpected error in a supplier sync")
        error = f"{type(exc).__name__}: {exc}"
        return env._("Unexpected error: %(error)s", error=error)
    sentence = _error_sentences(env).get(exc.code, exc.message)
    blocked_until = getattr(exc, "blocked_until", None)
    if blocked_until:
        sentence += " " + env._(
            "Next login attempt after %(time)s (UTC).",
            time=fields.Datetime.to_string(blocked_until),
        )
    detail = getattr(exc, "detail", "") or ""
    if detail and detail not in sentence:
        sentence += " " + env._("The service said: %(detail)s", detail=detail)
    return sentence


def describe_code_problem(env, problem):
    """Why a supplier code cannot be sent, for the key a service adapter's ``code_problem`` gave."""
    sentences = {
        "empty": env._("The code is empty."),
        "invisible": env._("The code contains control or invisible characters."),
        "separator": env._(
            "The code contains a comma (or '%2C'), which the supplier reads as a separator "
            "between codes: it would get another article's price."
        ),
        "too_long": env._("The code is too long."),
        "not_digits": env._("An ETM code is made of digits only."),
        "too_many_digits": env._("An ETM code has too many digits."),
    }
    return sentences.get(problem, problem)


def describe_item(env, code, params=None, detail=""):
    """The message stored on a binding for a per-item outcome."""
    params = params or {}
    if code == "unsafe_code":  # ``detail`` is the problem's key (services' ``code_problem``)
        return env._(
            "The code %(code)s cannot be sent to the supplier safely: %(reason)s Fix it on the "
            "mapping.", code=params.get("code", ""), reason=describe_code_problem(env, detail),
        )
    sentences = {
        "not_found": env._(
            "The supplier does not know the code %(code)s.", code=params.get("code", "")
        ),
        "ambiguous": env._(
            "Several articles have the code %(code)s; set the brand on the mapping. Brands "
            "found: %(brands)s.", code=params.get("code", ""), brands=detail,
        ),
        "no_offers": env._("No offers at the allowed locations right now."),

        "duplicate": env._(
            "The supplier's article for this code is already mapped to %(product)s.",
            product=detail,
        ),
        "no_stock": env._("Price found, but the supplier gave no stock for it."),
        "ms_not_linked": env._(
            "Not linked to a MoySklad product yet: import the catalogue first (Import catalogue)."
        ),
        "not_pushed": env._(
            "Not sent to the warehouse yet: push the products first (Push products)."
        ),
    }
    sentence = sentences.get(code) or _error_sentences(env).get(code) or detail
    if detail and detail not in sentence:
        sentence += " " + env._("The service said: %(detail)s", detail=detail)
    return sentence
