"""The driver owns the pass order: check capabilities, quantize for fixed-point backends, run."""
from __future__ import annotations

import platform
import time
from importlib.metadata import PackageNotFoundError, version

from nmcompile.backends import Backend, get_backend
from nmcompile.diagnostics import InputError
from nmcompile.ir import Network, QuantizedNetwork
from nmcompile.result import Result

DEFAULT_TARGET = "loihi2"


def prepare(net: Network, backend: Backend, target: str | None = None) -> Network | QuantizedNetwork:
    """Refuse what the backend lacks, then lower to what it consumes (float or integer network).

    A QuantizedNetwork (read from a chip image) is already lowered: it runs as it is, on a
    fixed-point backend only, for its own target."""
    image = net if isinstance(net, QuantizedNetwork) else None
    net = image.network if image is not None else net
    missing = backend.missing_dependency()
    if missing:
        raise InputError(f"backend {backend.name} is not available: {missing}")
    problems = [d for d in backend.check(net) if d.severity == "error"]
    if problems:
        raise InputError(problems)
    if image is not None:
        return _check_image(image, backend, target)
    if not backend.capabilities.fixed_point:
        return net
    from nmcompile.quantize import quantize
    from nmcompile.targets import load_target
    return quantize(net, load_target(target or DEFAULT_TARGET))


def _check_image(image: QuantizedNetwork, backend: Backend, target: str | None) -> QuantizedNetwork:
    from nmcompile.targets import load_target
    if not backend.capabilities.fixed_point:
        raise InputError(f"a chip image holds integer parameters: run it on a fixed-point "
                         f"backend (emulator, lava-fixed), not {backend.name}")
    if target is not None and load_target(target).name != image.target:
        raise InputError(f"this chip image was compiled for {image.target}, not "
                         f"{load_target(target).name}: recompile the model for that target")
    return image


def run(net: Network | QuantizedNetwork, backend_name: str, *, steps: int | None = None,
        target: str | None = None, options: dict | None = None) -> Result:
    """Run `net` on one backend and stamp the result with the common metadata."""
    backend = get_backend(backend_name)
    model = prepare(net, backend, target)
    net = net.network if isinstance(net, QuantizedNetwork) else net
    steps = net.steps if steps is None else steps
    t0 = time.perf_counter()
    result = backend.run(model, steps, options=dict(options or {}))
    result.meta.update({
        "backend": backend.name, "network": net.name, "dt": net.dt, "steps": steps,
        "seed": net.seed, "wall_time_s": round(time.perf_counter() - t0, 6),
        "target": model.target if isinstance(model, QuantizedNetwork) else None,
        "versions": versions(),
    })
    return result


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("nmcompile", "numpy", "brian2", "lava-nc"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
