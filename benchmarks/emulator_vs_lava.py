"""Emulator vs Lava fixed_pt on 1,000 LIF, 100,000 synapses, 1,000 steps (same run, same network).

Asserts bit-exact spikes and v traces, then prints both wall times and their ratio
(target: emulator >= 100x faster), and the time per step of Lava in both modes (floating_pt
on the float model, fixed_pt on the quantized one). The emulator's numba kernel is compiled once per machine
(cached on disk): its first call in a process, loading or compiling it, is timed on its own.
Usage: python benchmarks/emulator_vs_lava.py [--steps N]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

MODEL = """\
format: nmcompile/v1
name: emulator-vs-lava
seed: 3
populations:
  drive: {{model: poisson, size: 100, rate: 40}}
  cells: {{model: lif, size: {n}, tau_syn: 5.0, tau_mem: 20.0, v_th: 1.0}}
projections:
  - {{pre: drive, post: cells, connect: {{fixed_indegree: 10}}, weight: {{uniform: [0.05, 0.3]}}}}
  - {{pre: cells, post: cells, connect: {{fixed_indegree: {k}}}, allow_self: false,
     weight: {{normal: [0.0, 0.08]}}, delay: {{uniform_int: [1, 4]}}}}
probes:
  - {{population: cells, var: v}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", type=int, default=1000)
    parser.add_argument("--synapses", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    from nmcompile import driver
    from nmcompile.frontends.modelfile import load_model

    k = (args.synapses - 10 * args.neurons) // args.neurons
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.yaml")
        with open(path, "w") as fh:
            fh.write(MODEL.format(n=args.neurons, k=k))
        net = load_model(path)
    print(f"{net.n_neurons - 100} LIF + 100 Poisson, {net.n_synapses} synapses, {args.steps} steps")

    first, how = warm_up_emulator(net)
    print(f"{'emulator first call':>11}: {first:8.3f} s  (kernel {how}; not in its time below)")
    timings = {}
    results = {}
    for backend in ("emulator", "lava-fixed", "lava"):
        t0 = time.perf_counter()
        results[backend] = driver.run(net, backend, steps=args.steps, target="loihi2")
        timings[backend] = time.perf_counter() - t0
        spikes = len(results[backend].spikes["cells"][0])
        print(f"{backend:>11}: {timings[backend]:8.3f} s  ({spikes} spikes)")

    emu, lava = results["emulator"], results["lava-fixed"]
    for a, b in zip(emu.spikes["cells"], lava.spikes["cells"]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(emu.traces[("cells", "v")].astype(np.int64),
                                  np.asarray(lava.traces[("cells", "v")]).astype(np.int64))
    print("bit-exact: every spike and every v register identical")
    print(f"speed-up emulator / lava-fixed: {timings['lava-fixed'] / timings['emulator']:.0f}x "
          f"(target >= 100x; {timings['lava-fixed'] / (timings['emulator'] + first):.0f}x counting "
          f"its first call)")
    for backend in ("lava", "lava-fixed", "emulator"):
        print(f"time per step, {backend:>10}: {1000 * timings[backend] / args.steps:8.3f} ms "
              f"(whole run incl. start-up / {args.steps} steps)")


def warm_up_emulator(net) -> tuple[float, str]:
    """Run the emulator for one step: imports numba and loads (or first compiles) its kernel."""
    from nmcompile import driver
    t0 = time.perf_counter()
    driver.run(net, "emulator", steps=1, target="loihi2")
    from nmcompile.backends.emulator.kernel import run_blocks
    how = "loaded from disk cache" if sum(run_blocks.stats.cache_hits.values()) else "JIT-compiled"
    return time.perf_counter() - t0, how


if __name__ == "__main__":
    main()
