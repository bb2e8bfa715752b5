"""The access-log entry for a web or API request: account, shop and IP come from the request."""

from __future__ import annotations

from typing import Any

from dangol.audit.models import AuditEvent
from dangol.audit.services import audit_record


def audit_for_request(request: Any, *, action: str, object_type: str, **fields: Any) -> AuditEvent:
    # REMOTE_ADDR only: a forwarded-for header is whatever the client wants it to be unless a
    # trusted proxy sets it, and the deployment guide puts the proxy's address here.
    return audit_record(
        shop=request.shop,
        user=request.user,
        ip_address=request.META.get("REMOTE_ADDR"),
        action=action,
        object_type=object_type,
        via="api" if request.path.startswith("/api/") else "web",
        **fields,
    )
