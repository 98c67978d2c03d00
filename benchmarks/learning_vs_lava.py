"""Emulator learning vs Lava fixed_pt learning, same run, same network: 100 Poisson inputs
into 20 LIF through 2,000 plastic synapses (pair STDP, one-step epochs), lateral inhibition,
1,000 steps.

Asserts bit-exact spikes and learned weights (every synapse, and a weight sample every 100
steps), then prints lava-fixed's time over the emulator's for whole runs (`driver.run`,
start-up included) and for loops (the emulator's own timer, median of 3, against Lava's time
per step by difference of two run lengths, which cancels its start-up). The emulator runs a
plastic network one step at a time, Lava's learning engine (backends/plasticity, its fixed
point compiled with numba) between kernel calls, so its step costs more than a static
network's.
Usage: python benchmarks/learning_vs_lava.py [--steps N] [--pre N] [--post N]
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
name: learning-vs-lava
seed: 5
populations:
  drive: {{model: poisson, size: {pre}, rate: 20}}
  cells: {{model: lif, size: {post}, tau_syn: 5.0, tau_mem: 20.0, v_th: 1.0}}
projections:
  - name: plastic
    pre: drive
    post: cells
    connect: all_to_all
    weight: {{uniform: [0.0, 0.2]}}
    learning: {{rule: stdp, learning_rate: 0.0625, a_plus: 1.0, a_minus: -1.0,
               tau_plus: 20.0, tau_minus: 20.0, t_epoch: 1, w_max: 0.5, seed: 9}}
  - {{name: lateral, pre: cells, post: cells, connect: all_to_all, allow_self: false,
     weight: -0.3}}
probes:
  - {{projection: plastic, every: 100}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pre", type=int, default=100)
    parser.add_argument("--post", type=int, default=20)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args()
    from nmcompile import driver
    from nmcompile.frontends.modelfile import load_model

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.yaml")
        with open(path, "w") as fh:
            fh.write(MODEL.format(pre=args.pre, post=args.post))
        net = load_model(path)
    plastic = net.plastic_projections()[0]
    print(f"{args.pre} Poisson -> {args.post} LIF, {plastic.n_synapses} plastic synapses "
          f"(STDP), {args.steps} steps")
    driver.run(net, "emulator", steps=1, target="loihi2")  # loads (or compiles) the kernel
    timings, loops, results = [], [], {}
    for _ in range(3):
        t0 = time.perf_counter()
        results["emulator"] = driver.run(net, "emulator", steps=args.steps, target="loihi2")
        timings.append(time.perf_counter() - t0)
        loops.append(results["emulator"].meta["kernel_s"])
    emulator = statistics.median(timings)
    t0 = time.perf_counter()
    results["lava-fixed"] = driver.run(net, "lava-fixed", steps=args.steps, target="loihi2")
    lava = time.perf_counter() - t0
    short = max(args.steps // 10, 1)
    t0 = time.perf_counter()
    driver.run(net, "lava-fixed", steps=short, target="loihi2")
    lava_step = (lava - (time.perf_counter() - t0)) / (args.steps - short)

    emu, fix = results["emulator"], results["lava-fixed"]
    for a, b in zip(emu.spikes["cells"], fix.spikes["cells"]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(emu.weights["plastic"], fix.weights["plastic"])
    np.testing.assert_array_equal(emu.weight_traces["plastic"], fix.weight_traces["plastic"])
    changed = int(np.count_nonzero(emu.weight_traces["plastic"][0] != emu.weights["plastic"]))
    print(f"bit-exact: {emu.spikes['cells'][0].size} spikes and {plastic.n_synapses} learned "
          f"weights identical ({changed} changed since step 99), and every weight sample")
    emulator_step = statistics.median(loops) / args.steps
    print(f"{'emulator':>11}: {emulator:8.3f} s whole run (median of 3), "
          f"{1e6 * emulator_step:8.1f} µs per step in its loop")
    print(f"{'lava-fixed':>11}: {lava:8.3f} s whole run, {1e3 * lava_step:8.3f} ms per step "
          f"(by difference of {args.steps} and {short} steps)")
    print(f"speed-up emulator / lava-fixed: whole runs {lava / emulator:.0f}x, "
          f"loops {lava_step / emulator_step:.0f}x")


if __name__ == "__main__":
    main()
