"""Value checks shared by the model-file loader, projections and weights (and the target
schema's names): each returns the checked value or raises a located InputError via `src`."""
from __future__ import annotations

import math
import re

from nmcompile.frontends.modelfile.yamlmarks import FLOAT64_MAX, Source, brief

NAME_RE = re.compile(r"^[A-Za-z0-9_-]+\Z")  # \Z: "$" would let a final newline in
# population and projection names: also dotted paths, as NIR's nested graphs flatten to
DOTTED_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\Z")
# JSON has no inf: the strings "inf", ".inf" and "Infinity" (what json.dumps writes), any case
INF_WORDS = ("inf", ".inf", "infinity")


def is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def shown(x: object) -> str:
    """A value as the user wrote it: YAML's true/false rather than Python's True/False;
    a long one shortened."""
    return str(x).lower() if isinstance(x, bool) else brief(repr(x))


def number(x: object, path, src: Source, *, finite: bool = True) -> float:
    if is_number(x) and isinstance(x, int) and abs(x) > FLOAT64_MAX:  # the builder's ints
        raise src.fail(path, f"{shown(x)} is beyond the range of float64 numbers (±1.8e308)")
    if not is_number(x) or (finite and not math.isfinite(x)):
        raise src.fail(path, f"must be a {'finite ' if finite else ''}number, got {shown(x)}")
    return float(x)


def positive_number(x: object, path, src: Source, *, allow_inf: bool = False,
                    allow_zero: bool = False) -> float:
    """A number > 0 (≥ 0 with allow_zero, -0.0 read as 0.0), finite unless allow_inf."""
    if isinstance(x, str) and allow_inf and x.strip().lower() in INF_WORDS:
        return math.inf
    value = number(x, path, src, finite=not allow_inf)
    if not (value > 0 or (allow_zero and value == 0)):
        raise src.fail(path, f"must be a number {'≥' if allow_zero else '>'} 0"
                             f"{' (or .inf)' if allow_inf else ''}, got {x!r}")
    return value + 0.0  # -0.0 + 0.0 is 0.0: zero has no sign here


def integer(x: object, path, src: Source, *, minimum: int | None = None,
            maximum: int | None = None) -> int:
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    if not isinstance(x, int) or isinstance(x, bool):
        bound = f" ≥ {minimum}" if minimum is not None else ""
        raise src.fail(path, f"must be an integer{bound}, got {shown(x)}")
    if minimum is not None and x < minimum:
        raise src.fail(path, f"must be an integer ≥ {minimum}, got {shown(x)}")
    if maximum is not None and x > maximum:
        raise src.fail(path, f"must be an integer ≤ {maximum}, got {shown(x)}")
    if abs(x) > FLOAT64_MAX:  # the builder's ints: a file's are refused as they are read
        raise src.fail(path, f"{shown(x)} is beyond the range of float64 numbers (±1.8e308)")
    return x


def unknown_name(kind: str, name: object, known) -> str:
    import difflib
    close = difflib.get_close_matches(str(name), list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
    return f"no {kind} named {name!r}{hint}"
