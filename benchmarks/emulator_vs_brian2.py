"""Emulator vs Brian2 on a CUBA-style network: 4,000 LIF (3,200 E + 800 I), 2% connectivity,
10,000 steps of 0.1 ms, in one run: emulator (loihi2), our Brian2 backend with cython, and
Brian2 cpp_standalone. Prints wall times and ratios (target: emulator no slower than cython).

The model follows Brian2's CUBA example (Vogels & Abbott 2005) within our LIF: v measured
from rest (threshold 10 mV), drive toward 11 mV as a bias, one tau_syn of 5 ms, weights
scaled so one spike moves v as in CUBA, no refractory period (so the emulator runs its plain
LIF loop, the one kept as fast as before the LIF variants).
Wall times include building/compiling the simulation, as a user would see them; the
emulator's numba kernel is compiled once per machine (cached on disk, as Brian2 caches its
Cython code), so its first call in a process, loading or compiling it, is timed on its own.
Usage: python benchmarks/emulator_vs_brian2.py [--steps N] [--skip cpp_standalone]
"""
from __future__ import annotations

import argparse
import math
import os
import tempfile
import time

from emulator_vs_lava import warm_up_emulator  # the same warm-up (script folder is on sys.path)

MODEL = """\
format: nmcompile/v1
name: cuba
dt: {dt}
seed: 11
populations:
  E: {{model: lif, size: {n_e}, tau_syn: 5.0, tau_mem: 20.0, v_th: 10.0, bias: {bias}}}
  I: {{model: lif, size: {n_i}, tau_syn: 5.0, tau_mem: 20.0, v_th: 10.0, bias: {bias}}}
projections:
  - {{pre: E, post: E, connect: {{fixed_probability: 0.02}}, allow_self: false, weight: {w_e}}}
  - {{pre: E, post: I, connect: {{fixed_probability: 0.02}}, weight: {w_e}}}
  - {{pre: I, post: E, connect: {{fixed_probability: 0.02}}, weight: {w_i}}}
  - {{pre: I, post: I, connect: {{fixed_probability: 0.02}}, allow_self: false, weight: {w_i}}}
"""


def cuba(n: int, dt: float):
    from nmcompile.frontends.modelfile import load_model
    dv = 1 - math.exp(-dt / 20.0)
    text = MODEL.format(dt=dt, n_e=n * 4 // 5, n_i=n // 5, bias=11.0 * dv,
                        w_e=1.62 * dt / 20.0, w_i=-9.0 * dt / 20.0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cuba.yaml")
        with open(path, "w") as fh:
            fh.write(text)
        return load_model(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--skip", action="append", default=[],
                        help="leave out a peer: cython or cpp_standalone")
    args = parser.parse_args()
    from nmcompile import driver

    net = cuba(args.neurons, 0.1)
    print(f"CUBA: {net.n_neurons} LIF, {net.n_synapses} synapses, {args.steps} steps of 0.1 ms")
    first, how = warm_up_emulator(net)
    print(f"{'emulator first call':>22}: {first:8.2f} s  (kernel {how}; not in its time below)")
    runs = [("emulator", "emulator", {})]
    runs += [(f"brian2 {ct}", "brian2", {"code_target": ct})
             for ct in ("cython", "cpp_standalone") if ct not in args.skip]
    timings = {}
    for label, backend, options in runs:
        t0 = time.perf_counter()
        result = driver.run(net, backend, steps=args.steps, target="loihi2", options=options)
        timings[label] = time.perf_counter() - t0
        spikes = sum(len(t) for t, _ in result.spikes.values())
        rate = spikes / net.n_neurons / (args.steps * net.dt / 1000.0)
        print(f"{label:>22}: {timings[label]:8.2f} s  ({spikes} spikes, {rate:.1f} Hz)")
    for label in timings:
        if label != "emulator":
            ratio = timings[label] / timings["emulator"]
            counted = timings[label] / (timings["emulator"] + first)
            print(f"{label} / emulator wall time: {ratio:.2f}x ({counted:.2f}x counting its "
                  f"first call)")


if __name__ == "__main__":
    main()
