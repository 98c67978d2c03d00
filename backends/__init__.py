"""nmcompile.backends: simulators registered under the entry-point group `nmcompile.backends`."""
from __future__ import annotations

from importlib.metadata import entry_points

from nmcompile.diagnostics import InputError

from .base import Backend, Capabilities

GROUP = "nmcompile.backends"


def backend_names() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def get_backend(name: str) -> Backend:
    """Instantiate the backend registered as `name`; unknown or duplicated names are input errors."""
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        raise InputError(f"unknown backend {name!r}; choose from {', '.join(backend_names())}")
    if len({ep.value for ep in found}) > 1:
        raise InputError(f"backend {name!r} is registered twice: "
                         + ", ".join(ep.value for ep in found))
    return found[0].load()()


__all__ = ["Backend", "Capabilities", "backend_names", "get_backend"]
