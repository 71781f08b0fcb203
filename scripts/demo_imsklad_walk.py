"""`make demo`, step 5 (scripts/demo.sh runs it in the background): the IMSKLAD emulator walks the
demo sale order through its statuses once Odoo answers.

Environment: SC_ODOO (Odoo's base URL), SC_EMULATOR (the IMSKLAD emulator's), SC_ORDER (the
sale order's name, IMSKLAD's "our id"). The emulator was started with the demo connection's
callback URL and key, so its /_emulator/callback_walk needs only the order: statuses 1 to 9 then
11 as order.set_status calls (the order is at 0 once sent), the tracking number by
order.update_tracks right after 9. Prints what each callback answered.
"""

import json
import os
import sys
import time
import urllib.request

STATUSES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11]
PAUSE = 1.0  # seconds between statuses, so that a person watching the order sees them move


def post(url, body, timeout=30):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def wait_for_odoo(base, seconds=300):
    """Until Odoo serves its login page, which loads the database (the first callback then
    does not wait for the registry)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(base + "/web/login", timeout=60):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"Odoo did not answer at {base}: {exc}") from None
            time.sleep(1)


def main():
    odoo, emulator, order = (os.environ[name] for name in ("SC_ODOO", "SC_EMULATOR", "SC_ORDER"))
    wait_for_odoo(odoo)
    print(f"walking {order} through {STATUSES}", flush=True)
    for index, status in enumerate(STATUSES):
        # One step of the emulator's walk at a time (its callback_walk: this status, and the
        # track after the first shipped status), a pause between them.
        calls = post(emulator + "/_emulator/callback_walk", {
            "order_id": order, "statuses": [status], "track": status == 9,
        })
        for call in calls:
            print(f"{call['action']} {json.dumps(call['body']['data'], ensure_ascii=False)} -> "
                  f"HTTP {call['status']} {json.dumps(call['answer'])} {call['error']}",
                  flush=True)
        if index + 1 < len(STATUSES):
            time.sleep(PAUSE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
