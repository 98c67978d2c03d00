"""The driver owns the pass order: check capabilities, quantize for fixed-point backends, run."""
from __future__ import annotations

import operator
import platform
import time
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from nmcompile.backends import Backend, get_backend
from nmcompile.diagnostics import InputError
from nmcompile.ir import MAX_STEPS, Network, Poisson, QuantizedNetwork, source_spikes
from nmcompile.result import Result

DEFAULT_TARGET = "loihi2"
BYTES_PER_STEP = 8             # per-step tables (the emulator's source-event pointers)
BYTES_PER_TRACE_VALUE = 16     # a probed value as recorded plus the copy into the Result
BYTES_PER_SOURCE_SPIKE = 32    # (step, neuron) int64 pairs of realised source spikes, twice
BYTES_PER_CURRENT_VALUE = 28   # an injected current per neuron and step: float64 realised and
                               # summed, int32 registers, and the backend's copy


def check_run_size(net: Network, steps: object, backend: Backend) -> int:
    """Refuse, before anything is allocated, a run length that is not an integer in
    [1, MAX_STEPS] or a run whose recordings cannot fit in the available memory."""
    shown = steps
    try:
        steps = None if isinstance(steps, bool) else operator.index(steps)
    except TypeError:
        steps = None
    if steps is None or not 1 <= steps <= MAX_STEPS:
        raise InputError(f"steps must be an integer in 1..{MAX_STEPS}, got {shown!r}")
    need = steps * run_bytes_per_step(net, backend)
    from nmcompile.memory import available_memory
    have = available_memory()
    if need > have:
        raise InputError(f"{steps:,} steps of {net.name} on {backend.name} need ~"
                         f"{need / 2**30:,.1f} GiB, but only {have / 2**30:,.1f} GiB of memory "
                         f"is available: run fewer steps")
    return steps


def run_bytes_per_step(net: Network, backend: Backend) -> int:
    """A generous estimate of what one step adds to a run's memory: dense recordings of the
    backend, probed traces, injected currents, expected Poisson source spikes (LIF spikes are not
    predictable)."""
    probed = sum(net.populations[p.population].size for p in net.probes)
    with_current = sum(p.size for p in net.populations.values() if net.has_current(p.name))
    source_rate = sum(float(np.minimum(np.asarray(p.model.rate) * net.dt / 1000.0, 1.0).sum())
                      for p in net.populations.values() if isinstance(p.model, Poisson))
    return int(BYTES_PER_STEP + backend.bytes_per_neuron_step * net.n_neurons
               + BYTES_PER_TRACE_VALUE * probed + BYTES_PER_CURRENT_VALUE * with_current
               + BYTES_PER_SOURCE_SPIKE * source_rate)


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
    from nmcompile.passes.quantize import quantize
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
    plain = net.network if isinstance(net, QuantizedNetwork) else net
    steps = check_run_size(plain, plain.steps if steps is None else steps, backend)
    model = prepare(net, backend, target)
    net = plain
    t0 = time.perf_counter()
    result = backend.run(model, steps, options=dict(options or {}))
    sources = [pop for pop in net.populations.values() if pop.is_source]
    for pop in sources:  # every population's spikes, sources included, in every result
        if pop.name not in result.spikes:
            result.spikes[pop.name] = source_spikes(pop, net, steps)
    result.meta.update({
        "backend": backend.name, "network": net.name, "dt": net.dt, "steps": steps,
        "seed": net.seed, "sources": [pop.name for pop in sources], "wall_time_s": round(time.perf_counter() - t0, 6),
        "target": model.target if isinstance(model, QuantizedNetwork) else None,
        "versions": versions(),
    })
    if net.metadata:  # how a front end made the network (NIR: dt, discretisation, timing)
        result.meta["origin"] = net.metadata
    return result


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("nmcompile", "numpy", "brian2", "lava-nc"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
