from __future__ import annotations

import time
from datetime import date

import pytest

from dangol.demo.generator import DemoDataset, generate_demo

END = date(2025, 6, 30)


@pytest.fixture(scope="session")
def timed_default() -> tuple[DemoDataset, float]:
    started = time.perf_counter()
    dataset = generate_demo(end=END)
    return dataset, time.perf_counter() - started


@pytest.fixture(scope="session")
def demo(timed_default) -> DemoDataset:
    """The default demo café: 2,000 customers over 18 months."""
    return timed_default[0]


@pytest.fixture(scope="session")
def autumn_demo() -> DemoDataset:
    """A period ending outside summer (summer-only customers look dormant)."""
    return generate_demo(customers=1200, end=date(2025, 11, 20), seed=5)
