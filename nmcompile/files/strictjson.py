"""JSON that strict parsers accept: Python's json writes NaN and Infinity, which are not JSON.

Reports may hold unbounded quantities (an unbounded worst case is -inf): they are written as
the strings "inf" and "-inf", and NaN as null, so every consumer can read the file.
"""
from __future__ import annotations

import json
import math

import numpy as np


def dumps(obj, *, indent: int = 1) -> str:
    """`obj` as strict JSON text (allow_nan=False holds: every non-finite float is replaced)."""
    return json.dumps(_finite(obj), indent=indent, sort_keys=True, allow_nan=False) + "\n"


def _finite(obj):
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _finite(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj
