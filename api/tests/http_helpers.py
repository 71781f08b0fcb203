"""Shared by the api/ client tests: the fake clock and a reader of the JSON a request sent.

``conftest.py`` gives every test module the ``fake`` (this clock at ``NOW``) and ``mocked``
(``responses``) fixtures; a module that needs another clock defines its own ``fake``.
"""

import json
from datetime import datetime, timedelta

NOW = datetime(2025, 3, 1, 12, 0, 0)  # naive UTC: 15:00 in Moscow


class FakeTime:
    """Wall clock (``now``), monotonic clock, epoch clock and sleep, moved only by sleep/advance:
    a test runs in no time and sees every wait the code under test asked for.

    ``wall_moves=False`` keeps the wall clock where the test put it (``current``) while the
    monotonic clock runs on.
    """

    def __init__(self, start=NOW, wall_moves=True):
        self.current = start
        self.wall_moves = wall_moves
        self.mono = 0.0
        self.sleeps = []

    def now(self):
        return self.current

    def clock(self):
        return self.mono

    def epoch(self):
        return (self.current - datetime(1970, 1, 1)).total_seconds()

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds):
        self.mono += seconds
        if self.wall_moves:
            self.current += timedelta(seconds=seconds)


def json_body(call):
    """The JSON body a recorded ``responses`` call sent."""
    body = call.request.body
    return json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
