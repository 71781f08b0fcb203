"""Fixtures of the api/ client tests (helpers to import are in ``http_helpers.py``)."""

import pytest
import responses
from http_helpers import FakeTime


@pytest.fixture
def fake():
    """The fake clock; modules whose service needs another start or clock define their own."""
    return FakeTime()


@pytest.fixture
def mocked():
    """Every request answered by ``responses``; a request nothing answers fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
