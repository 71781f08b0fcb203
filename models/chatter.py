"""Chatter notes that never decide whether the work they describe happened."""

import logging

_logger = logging.getLogger(__name__)


def post_note(record, body):
    """Post ``body`` on ``record``'s chatter; a failing post never undoes the work.

    As superuser with the caller as author: a user without an email address, or without write
    access to the record, could not post otherwise. In a savepoint: a post that fails anyway is
    logged and the transaction, with what the button did, goes on.
    """
    try:
        with record.env.cr.savepoint():
            record.sudo().message_post(body=body, author_id=record.env.user.partner_id.id)
    except Exception as exc:  # noqa: BLE001 — the note is a record, not a condition
        _logger.warning("Could not post a note on %s: %s", record, type(exc).__name__)
