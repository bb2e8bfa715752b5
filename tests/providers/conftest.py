from __future__ import annotations

import pytest

from . import fakes


@pytest.fixture
def serve():
    """Start fake APIs for one test: ``api = serve(check)``; all are stopped afterwards."""
    stops = []

    def _serve(check):
        api, stop = fakes.start(fakes.FakeApi(check=check))
        stops.append(stop)
        return api

    yield _serve
    for stop in stops:
        stop()
