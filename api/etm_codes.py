"""Which ETM codes can be sent at all, and which answer row belongs to which asked code.

Price requests join codes with '%2C' in one path segment, and ETM splits on it (and on ','): a
code holding either would be read as two codes and answered with another article's price. So a
code is checked before it is sent (``etm_code_problem_key``: a stable key the Odoo side words in
the user's language), and a row is matched to the code it belongs to by its ``gdscode`` only
(``match_price_rows``), never by position.
"""

import logging
import unicodedata

_logger = logging.getLogger(__name__)


def text(value):
    """A str for any scalar: None → '', 9536092 → '9536092', 11.0 → '11'."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()

CODE_TYPES = ("etm", "cli", "mnf")
MAX_CODE_LENGTH = 100  # client codes and articles; ETM's own codes are 7-8 digits
MAX_ETM_CODE_DIGITS = 20


def normalize_code(code, code_type):
    """The code as sent: trimmed; ETM codes without their "ETM" prefix ('ETM9536092' → '9536092')."""
    code = text(code)
    if code_type == "etm" and code[:3].upper() == "ETM":
        code = code[3:].strip()
    return code


# Why a code cannot be sent (``etm_code_problem_key``): stable keys the Odoo side translates.
CODE_PROBLEMS = {
    "empty": "The code is empty.",
    "invisible": "The code contains control or invisible characters.",
    "separator": "The code contains a comma or '%2C', which ETM iPro reads as a separator "
    "between codes.",
    "too_long": f"The code is longer than {MAX_CODE_LENGTH} characters.",
    "not_digits": "An ETM code is made of digits only (an 'ETM' prefix aside).",
    "too_many_digits": f"An ETM code has at most {MAX_ETM_CODE_DIGITS} digits.",
}


def etm_code_problem_key(code, code_type="etm"):
    """Why ``code`` cannot be sent to ETM iPro as a ``code_type`` code (a key of
    ``CODE_PROBLEMS``), or None when it can.

    Price requests join codes with '%2C' in one path segment, and ETM splits on it (and on ','):
    a code holding either would be read as two codes and answered with another article's price.
    The document: ETM codes are digits only, without the "ETM" prefix (which is stripped here);
    client codes (cli) and manufacturer articles (mnf) are free text, within a sane length and
    without control or invisible characters.
    """
    if code_type not in CODE_TYPES:
        raise ValueError(f"code_type must be one of {CODE_TYPES}")
    value = normalize_code(code, code_type)
    if not value:
        return "empty"
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in value):
        return "invisible"
    if "," in value or "%2c" in value.lower():
        return "separator"
    if len(value) > MAX_CODE_LENGTH:
        return "too_long"
    if code_type == "etm":
        if not (value.isascii() and value.isdigit()):
            return "not_digits"
        if len(value) > MAX_ETM_CODE_DIGITS:
            return "too_many_digits"
    return None


def etm_code_problem(code, code_type="etm"):
    """``etm_code_problem_key`` as an English sentence (None when the code can be sent)."""
    key = etm_code_problem_key(code, code_type)
    return CODE_PROBLEMS[key] if key else None


def shown_code(code, limit=40):
    """A code for a message: quoted, control characters escaped, long ones cut."""
    value = "" if code is None else str(code)
    return repr(value if len(value) <= limit else value[:limit] + "…")


def etm_key(code):
    """An ETM code as compared between rows and asked codes: digits without leading zeros."""
    code = normalize_code(code, "etm")
    return code.lstrip("0") or code if code.isdigit() else code.casefold()


def match_price_rows(rows, asked, etm_codes, code_type):
    """Which price row belongs to which asked code, by the row's ``gdscode`` only.

    ``asked``: the codes as sent; ``etm_codes``: {asked code: ETM code} where known (asking by
    ETM code, each code is its own). A row belongs to the codes whose ETM code is its gdscode;
    failing that (client code or article asked) to the code it echoes, compared case-blind.
    Never by position nor because it is the only row. Returns ``(matched, unmatched rows)``,
    matched = {asked code: row}; a code two different rows claim gets neither.
    """
    by_etm, by_echo = {}, {}
    for code in asked:
        etm_code = code if code_type == "etm" else etm_codes.get(code)
        if etm_code:
            by_etm.setdefault(etm_key(etm_code), []).append(code)
        if code_type != "etm":
            by_echo.setdefault(code.casefold(), []).append(code)
    claims, unmatched = {}, []
    for row in rows:
        gdscode = text(row.get("gdscode"))
        owners = by_etm.get(etm_key(gdscode)) or by_echo.get(gdscode.casefold())
        if not gdscode or not owners:
            unmatched.append(row)
            continue
        for code in owners:
            claims.setdefault(code, []).append(row)
    matched = {}
    for code, claimed in claims.items():
        if all(row == claimed[0] for row in claimed):
            matched[code] = claimed[0]
        else:
            _logger.debug("ETM iPro price: %d different rows for %s; none kept", len(claimed),
                          shown_code(code))  # fmt: skip
    return matched, unmatched


