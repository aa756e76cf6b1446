"""Argument checks shared by the phy modules: one clear message naming the problem and fix."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def finite(name: str, value: Any) -> np.ndarray:
    """``value`` as a float array; ValueError if any element is NaN or infinite."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or array of numbers, got {value!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}; pass a finite number")
    return arr


def nonneg(name: str, value: Any, strict: bool = False) -> np.ndarray:
    """Finite and >= 0 (> 0 when ``strict``); ValueError otherwise."""
    arr = finite(name, value)
    bad = np.any(arr <= 0) if strict else np.any(arr < 0)
    if bad:
        need = "positive" if strict else "non-negative"
        raise ValueError(f"{name} must be {need}, got {value!r}; pass a {need} value")
    return arr


def scalar(arr: np.ndarray) -> Any:
    """0-d arrays back to Python floats so scalar in gives scalar out."""
    return float(arr) if np.ndim(arr) == 0 else arr


def is_integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not float(value).is_integer() or not math.isfinite(value):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)
