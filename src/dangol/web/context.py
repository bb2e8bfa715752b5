from __future__ import annotations

from django.http import HttpRequest


def shop(request: HttpRequest) -> dict:
    return {
        "shop": getattr(request, "shop", None),
        "membership": getattr(request, "membership", None),
    }
