"""API errors and the request-body parser: every refusal is JSON {code, message, details}."""

from __future__ import annotations

import json
import math
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

# Largest JSON body the API accepts; a segment rule is a few kilobytes at most.
MAX_BODY_BYTES = 256 * 1024
# Whole numbers beyond a signed 64-bit column fit no database field (nor a float, exactly).
MAX_INT = 2**63 - 1


class ApiError(Exception):
    """A refusal with an HTTP status, a stable code and a Korean + English message."""

    def __init__(
        self,
        status: int,
        code: str,
        ko: str,
        en: str,
        details: Any = None,
        *,
        headers: dict[str, str] | None = None,
    ):
        self.status, self.code, self.details = status, code, details or {}
        # Response headers to send with the refusal (e.g. Retry-After on a 429).
        self.headers = dict(headers or {})
        self.message = f"{ko} / {en}"
        super().__init__(self.message)


def body_too_large(max_bytes: int = MAX_BODY_BYTES) -> ApiError:
    return ApiError(
        413,
        "body_too_large",
        f"요청이 너무 큽니다 ({max_bytes // 1024}KB까지).",
        f"Request body too large (at most {max_bytes // 1024} KB).",
        {"max_bytes": max_bytes},
    )


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _parse_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_INT:
        raise ValueError(f"integer out of range: {text[:20]}...")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:20]}...")
    return value


def _parse_constant(name: str) -> Any:
    # NaN and Infinity are a Python extension, not JSON.
    raise ValueError(f"{name} is not JSON")


def _has_nul(data: Any) -> bool:
    """Whether any string (or key) in the decoded JSON holds a NUL character.

    Walks with an explicit stack: the decoder allows nesting deeper than Python recursion.
    """
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class JsonObjectParser(Parser):
    """JSON bodies only: a single object, at most ``MAX_BODY_BYTES``, no NUL characters
    (PostgreSQL text and jsonb cannot hold them).

    ``limits`` raises the cap for some paths (exact request paths → bytes), e.g. batches."""

    def __init__(self, limits: dict[str, int] | None = None) -> None:
        self.limits = dict(limits or {})

    def max_bytes(self, request: HttpRequest) -> int:
        return self.limits.get(request.path, MAX_BODY_BYTES)

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        cap = self.max_bytes(request)
        if _content_length(request) > cap or len(request.body) > cap:
            raise body_too_large(cap)
        try:
            data = json.loads(
                request.body,
                parse_int=_parse_int,
                parse_float=_parse_float,
                parse_constant=_parse_constant,
            )
        except (ValueError, RecursionError) as exc:
            # ValueError: bad JSON, bytes that are not UTF-8, NaN and Infinity, numbers too large
            # for a float, whole numbers beyond 64 bits. RecursionError: very deep nesting.
            raise ApiError(
                400,
                "malformed_json",
                "JSON 형식이 올바르지 않습니다 (숫자는 64비트 정수 범위까지).",
                "The request body is not valid JSON (whole numbers must fit in 64 bits).",
            ) from exc
        if not isinstance(data, dict):
            raise ApiError(
                400,
                "malformed_json",
                "JSON 객체({...})를 보내 주세요.",
                "The request body must be a JSON object.",
            )
        if _has_nul(data):
            raise ApiError(
                400,
                "invalid_characters",
                "NUL 문자(\\u0000)는 쓸 수 없습니다.",
                "NUL characters (\\u0000) are not allowed.",
            )
        return data
