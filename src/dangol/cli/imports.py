"""`dangol import`: customers, purchases and products from CSV and Excel files."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Adds the import command (filled in by the imports work)."""
