"""Emulator vs Lava fixed_pt on 1,000 LIF, 100,000 synapses, 1,000 steps (same run, same network).

Asserts bit-exact spikes and v traces, then prints two ratios of lava-fixed's time to the
emulator's (target: >= 1,000x):
* whole runs: each backend's `driver.run` from the quantized network to the result, Lava's
  start-up (compiling its processes, starting its workers) and the emulator's table building
  included;
* loops: the steady state of each, the emulator's own timer around its loop (meta kernel_s,
  median of 3 runs) against Lava's time per step taken from two runs by difference
  ((T(steps) − T(steps / 10)) / (0.9 · steps): its start-up cancels).
It also prints Lava's time per step in both modes (floating_pt on the float model, fixed_pt on
the quantized one). The emulator's numba kernel is compiled once per machine (cached on
disk): its first call in a process, loading or compiling it, is timed on its own.
Usage: python benchmarks/emulator_vs_lava.py [--steps N]
"""
from __future__ import annotations

import argparse
import os
import statistics
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
    timings, loops, results = {}, [], {}
    for _ in range(3):
        t0 = time.perf_counter()
        results["emulator"] = driver.run(net, "emulator", steps=args.steps, target="loihi2")
        timings.setdefault("emulator", []).append(time.perf_counter() - t0)
        loops.append(results["emulator"].meta["kernel_s"])
    timings["emulator"] = statistics.median(timings["emulator"])
    short = max(args.steps // 10, 1)
    for backend in ("lava-fixed", "lava"):
        t0 = time.perf_counter()
        results[backend] = driver.run(net, backend, steps=args.steps, target="loihi2")
        timings[backend] = time.perf_counter() - t0
    t0 = time.perf_counter()
    driver.run(net, "lava-fixed", steps=short, target="loihi2")
    lava_step = (timings["lava-fixed"] - (time.perf_counter() - t0)) / (args.steps - short)
    for backend in ("emulator", "lava-fixed", "lava"):
        spikes = len(results[backend].spikes["cells"][0])
        print(f"{backend:>11}: {timings[backend]:8.3f} s  ({spikes} spikes)")

    emu, lava = results["emulator"], results["lava-fixed"]
    for a, b in zip(emu.spikes["cells"], lava.spikes["cells"]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(emu.traces[("cells", "v")].astype(np.int64),
                                  np.asarray(lava.traces[("cells", "v")]).astype(np.int64))
    print("bit-exact: every spike and every v register identical")
    emulator_step = statistics.median(loops) / args.steps
    print(f"speed-up emulator / lava-fixed, whole runs: "
          f"{timings['lava-fixed'] / timings['emulator']:.0f}x "
          f"({timings['lava-fixed'] / (timings['emulator'] + first):.0f}x counting its first call)")
    print(f"speed-up emulator / lava-fixed, loops: {lava_step / emulator_step:.0f}x "
          f"(target >= 1000x): lava-fixed {1000 * lava_step:.3f} ms per step (by difference of "
          f"{args.steps} and {short} steps), emulator {1e6 * emulator_step:.2f} µs per step")
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
