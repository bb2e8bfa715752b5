"""Writes of the privacy app, split by concept: requests (``requests.py``), erasure
(``erasure.py``) and retention (``retention.py``). Import from here."""

from __future__ import annotations

from dangol.privacy.erasure import ErasureError, customer_erase
from dangol.privacy.requests import (
    SELF_SERVICE_KINDS,
    AccessFile,
    Correction,
    RequestError,
    deletions_execute_due,
    dsr_correct,
    dsr_create,
    dsr_create_self,
    dsr_erase,
    dsr_fulfil_access,
    dsr_refuse,
    dsr_stop_processing,
    processing_stop,
)
from dangol.privacy.retention import RetentionError, retention_apply, retention_policy_set

__all__ = [
    "SELF_SERVICE_KINDS",
    "AccessFile",
    "Correction",
    "ErasureError",
    "RequestError",
    "RetentionError",
    "customer_erase",
    "deletions_execute_due",
    "dsr_correct",
    "dsr_create",
    "dsr_create_self",
    "dsr_erase",
    "dsr_fulfil_access",
    "dsr_refuse",
    "dsr_stop_processing",
    "processing_stop",
    "retention_apply",
    "retention_policy_set",
]
