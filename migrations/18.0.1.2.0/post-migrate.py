"""18.0.1.2.0: a MoySklad weight that was only the documented default (3 for a user's token, 1 for
an application token) is cleared, so the connection follows MoySklad's published schedule (4 units
for a user's token from 1 December 2026) instead of keeping the old value."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        "UPDATE supplier_backend SET moysklad_request_weight = 0 "
        "WHERE service = 'moysklad' AND ("
        " (moysklad_token_kind = 'user' AND moysklad_request_weight = 3)"
        " OR (moysklad_token_kind = 'application' AND moysklad_request_weight = 1))"
    )
