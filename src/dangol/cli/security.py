"""Security commands: key rotation and the deployment check."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Adds the security commands (filled in by the privacy and security work)."""
