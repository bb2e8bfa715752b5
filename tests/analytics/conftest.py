"""Fixtures for the analytics tests: the CDNOW cohort that sits beside the repository."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[2]
# The analytics package is framework-free, so its tests also run from a plain checkout.
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

from dangol.analytics.summary import read_cdnow, summarize  # noqa: E402

CDNOW = REPO.parent / "shared" / "data" / "cdnow"


@pytest.fixture(scope="session")
def cdnow_transactions() -> pl.DataFrame:
    return read_cdnow(CDNOW / "CDNOW_sample.txt")


@pytest.fixture(scope="session")
def cdnow_published_summary() -> pl.DataFrame:
    return pl.read_csv(CDNOW / "cdnow_customers_summary.csv")


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_transactions: pl.DataFrame) -> pl.DataFrame:
    return summarize(
        cdnow_transactions,
        customer="customer_id",
        at="date",
        amount="amount",
        calibration_end="1997-09-30",
        holdout_end="1998-06-30",
        unit="W",
    )
