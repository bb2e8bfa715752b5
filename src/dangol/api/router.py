"""The REST API (django-ninja). Errors are JSON {code, message, details} with a stable code."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import django_auth

from dangol.api import customers

api = NinjaAPI(
    title="Dangol API",
    version="1",
    urls_namespace="api",
    auth=django_auth,
)


def _error(request: HttpRequest, status: int, code: str, message: str, details=None):
    return api.create_response(
        request, {"code": code, "message": message, "details": details or {}}, status=status
    )


@api.exception_handler(Http404)
def not_found(request, exc):
    return _error(request, 404, "not_found", "찾을 수 없습니다 / Not found.")


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    return _error(request, 403, "forbidden", "권한이 없습니다 / Not allowed.")


@api.exception_handler(AuthenticationError)
def unauthorized(request, exc):
    return _error(request, 401, "unauthorized", "로그인이 필요합니다 / Authentication required.")


@api.exception_handler(ValidationError)
def invalid(request, exc):
    return _error(
        request,
        422,
        "invalid_input",
        "입력이 올바르지 않습니다 / Invalid input.",
        {"errors": exc.errors},
    )


api.add_router("/v1/customers", customers.router)
