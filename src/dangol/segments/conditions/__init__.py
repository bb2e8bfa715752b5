"""Registered conditions; importing this package registers the built-in ones."""

from dangol.segments.conditions import habits, profile, purchases, scores  # noqa: F401
from dangol.segments.conditions.base import REGISTRY, Condition, EvalContext, Param, register

__all__ = ["REGISTRY", "Condition", "EvalContext", "Param", "register"]
