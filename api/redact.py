"""Keeping secrets out of logs and error messages.

Some services take credentials in the query string (ETM: ``?log=…&pwd=…``, ``session-id=…``),
so any URL we print must be masked first. Two layers: by parameter name (``pwd=***``) and by
known value (the password or token wherever it appears, raw or percent-encoded).
"""

import logging
import re
from urllib.parse import quote, quote_plus

MASK = "***"
# Values shorter than this would mask innocent text rather than protect anything.
MIN_SECRET_LENGTH = 3


def secret_param_pattern(names):
    """Regex matching ``name=value`` in URLs/forms and ``"name": "value"`` in JSON."""
    if not names:
        return None
    alternatives = "|".join(re.escape(name) for name in names)
    return re.compile(
        rf"((?:^|[?&;\s])(?:{alternatives})=)[^&#\s'\"]*|(\"(?:{alternatives})\"\s*:\s*\")[^\"]*",
        re.IGNORECASE,
    )


def _mask(match):
    return (match.group(1) or match.group(2)) + MASK


def redact_text(text, pattern=None, values=()):
    """``text`` with the values of secret params and the given secret values masked."""
    text = "" if text is None else str(text)
    forms = set()
    for value in values:
        value = str(value or "")
        if len(value) >= MIN_SECRET_LENGTH:
            forms.update((value, quote(value, safe=""), quote_plus(value)))
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    if pattern is not None:
        text = pattern.sub(_mask, text)
    return text


class _QueryRedactingFilter(logging.Filter):
    """urllib3 logs each request line, query string included, at DEBUG: mask our secret params."""

    def __init__(self):
        super().__init__()
        self.names = set()
        self.pattern = None

    def add(self, names):
        if set(names) - self.names:
            self.names.update(names)
            self.pattern = secret_param_pattern(sorted(self.names))

    def filter(self, record):
        if self.pattern is not None and isinstance(record.args, tuple):
            record.args = tuple(
                self.pattern.sub(_mask, arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


_URLLIB3_FILTER = _QueryRedactingFilter()
logging.getLogger("urllib3.connectionpool").addFilter(_URLLIB3_FILTER)


def register_log_secrets(names):
    """Mask these parameter names in urllib3's own request log lines too."""
    _URLLIB3_FILTER.add(names)
