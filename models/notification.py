"""The one shape of the notifications our buttons return."""


def notification(title, message, kind="info", sticky=None):
    """A toast, then the record the button was pressed on is reloaded with what changed.

    ``next`` closes rather than ``soft_reload``s: a soft reload restores the controller as it was
    opened, so on a record created with "New" it showed a blank new record instead.

    ``className`` keeps the message's line breaks (static/src/scss/notification.scss): a
    summary of several lines ("2 sent", "1 refused: ...") otherwise runs into one paragraph.
    """
    return {
        "type": "ir.actions.client",
        "tag": "display_notification",
        "params": {
            "title": title,
            "message": message,
            "type": kind,
            "sticky": kind != "success" if sticky is None else sticky,
            "className": "o_supplier_notification",
            "next": {"type": "ir.actions.act_window_close"},
        },
    }
