"""The REST API (django-ninja). Errors are JSON {code, message, details} with a stable code."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import django_auth

from dangol.api import customers, ingest, segments
from dangol.api.errors import ApiError, JsonObjectParser, body_too_large

api = NinjaAPI(
    title="Dangol API",
    version="1",
    urls_namespace="api",
    auth=django_auth,
    parser=JsonObjectParser(limits=dict.fromkeys(ingest.BATCH_PATHS, ingest.BATCH_MAX_BYTES)),
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


@api.exception_handler(ApiError)
def api_error(request, exc):
    response = _error(request, exc.status, exc.code, exc.message, exc.details)
    for name, value in exc.headers.items():
        response[name] = value
    return response


@api.exception_handler(RequestDataTooBig)
def too_big(request, exc):
    # Django's own cap on reading a body (DATA_UPLOAD_MAX_MEMORY_SIZE), above ours.
    return api_error(request, body_too_large())


@api.exception_handler(HttpError)
def http_error(request, exc):
    # The body parser's refusals arrive wrapped in HttpError(400); show them as they were raised.
    if isinstance(exc.__cause__, ApiError):
        return api_error(request, exc.__cause__)
    if isinstance(exc.__cause__, RequestDataTooBig):
        return too_big(request, exc.__cause__)
    if exc.status_code == 403:  # e.g. a missing CSRF token on a logged-in write
        return forbidden(request, exc)
    if exc.status_code == 429:
        return _error(
            request, 429, "too_many_requests", "요청이 너무 많습니다 / Too many requests."
        )
    return _error(request, exc.status_code, "bad_request", f"잘못된 요청입니다 / {exc.message}")


api.add_router("/v1/customers", customers.router)
api.add_router("/v1/segments", segments.router)
api.add_router("/v1/pos", ingest.router)
