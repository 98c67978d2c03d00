"""The emulator's main loop: Lava's step order over a whole quantized network (DESIGN §2).

Step t: every LIF population takes its input for t from its ring and updates (inputs come
only from earlier steps, so population order does not matter); then the spikes of step t,
of sources and LIFs alike, are delivered d ≥ 1 steps ahead.
"""
from __future__ import annotations

import numpy as np

from nmcompile.diagnostics import RunError
from nmcompile.ir import QuantizedNetwork, source_raster
from nmcompile.result import Result

from .lava_semantics import LifRegisters
from .synapses import Delivery, InputRing


def emulate(qnet: QuantizedNetwork, steps: int, *, strict: bool = False) -> Result:
    net = qnet.network
    sizes = {name: pop.size for name, pop in net.populations.items()}
    lifs = {name: LifRegisters(fixed, sizes[name]) for name, fixed in qnet.populations.items()}
    sources = {name: source_raster(pop, net, steps)
               for name, pop in net.populations.items() if pop.is_source}
    rings = {name: InputRing(sizes[name], max([int(p.delay.max()) for p in qnet.projections
                                              if p.post == name and p.delay.size], default=1))
             for name in lifs}
    deliveries = [Delivery(p, sizes[p.pre], sizes[p.post]) for p in qnet.projections]
    by_pre: dict[str, list[Delivery]] = {}
    for proj, d in zip(qnet.projections, deliveries):
        by_pre.setdefault(proj.pre, []).append(d)
    probes = [(p.population, p.var) for p in net.probes if p.population in lifs]
    traces = {key: np.zeros((steps, sizes[key[0]]), np.int32) for key in probes}
    spikes: dict[str, list[tuple[int, np.ndarray]]] = {name: [] for name in lifs}

    for t in range(steps):
        fired: dict[str, np.ndarray] = {}
        for name, regs in lifs.items():
            fired[name], wrapped, saturated = regs.step(rings[name].take(t))
            if wrapped is not None or saturated is not None:
                _count(name, regs, wrapped, saturated, t, strict)
            if fired[name].size:
                spikes[name].append((t, fired[name]))
        for key in probes:
            traces[key][t] = getattr(lifs[key[0]], key[1])
        for name, raster in sources.items():
            fired[name] = np.flatnonzero(raster[t])
        for name, targets in by_pre.items():
            for d in targets:
                d.deliver(fired[name], t, rings[d.post])

    result = Result(spikes={name: _concat(s) for name, s in spikes.items()}, traces=traces)
    overflow = {name: {"u_wraps": r.u_wraps, "v_saturations": r.v_saturations}
                for name, r in lifs.items()}
    result.meta.update({
        "overflow": overflow,
        "warnings": [f"population {name}: u wrapped {o['u_wraps']} times, v saturated "
                     f"{o['v_saturations']} times" for name, o in overflow.items()
                     if o["u_wraps"] or o["v_saturations"]],
        "scale": {name: fixed.scale for name, fixed in qnet.populations.items()},
        "units": "register",
    })
    return result


def _count(name: str, regs: LifRegisters, wrapped: np.ndarray | None,
           saturated: np.ndarray | None, t: int, strict: bool) -> None:
    regs.u_wraps += int(np.count_nonzero(wrapped)) if wrapped is not None else 0
    regs.v_saturations += int(np.count_nonzero(saturated)) if saturated is not None else 0
    if strict:
        what, mask = ("u wrapped", wrapped) if wrapped is not None else ("v saturated", saturated)
        raise RunError(f"population {name}: {what} at step {t}, neuron "
                       f"{int(np.flatnonzero(mask)[0])} (strict mode)")


def _concat(chunks: list[tuple[int, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not chunks:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    steps = np.concatenate([np.full(n.size, t, np.int64) for t, n in chunks])
    return steps, np.concatenate([n for _, n in chunks]).astype(np.int64)
