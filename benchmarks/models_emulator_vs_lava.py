"""Emulator vs Lava fixed_pt on the new neuron models: an Izhikevich network and an adaptive
LIF network (docs/design.md §2.6, §2.7), each 400 neurons (320 E + 80 I), recurrent with
delays, driven by 100 Poisson sources; same run, same quantized network.

Each network is quantized once (loihi2) and both backends run that QuantizedNetwork: the
emulator for --steps steps (default 5,000; median of --repeats runs), Lava for --lava-steps
(default 500: Lava runs about a thousand times slower), so the ratio printed is per step
(Lava's whole run, start-up included, over its steps vs the emulator's median run over its
own). The emulator's first --lava-steps steps are asserted bit-exact with Lava's (every spike,
every probed register) before any time is printed. The emulator's numba kernel is compiled
once per machine (cached on disk): its first call in a process, loading or compiling it, is
timed on its own.
Usage: python benchmarks/models_emulator_vs_lava.py [--steps N] [--lava-steps N] [--repeats N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

HEADER = """\
format: nmcompile/v1
name: {name}
dt: 0.5
seed: 13
populations:
  thalamus: {{model: poisson, size: 100, rate: 20}}
"""
IZHIKEVICH = HEADER + """\
  exc: {{model: izhikevich, size: 320, a: 0.02, b: 0.2, c: -65, d: 8, tau_syn: 2.0,
        v_init: {{uniform: [-70, -60]}}}}
  inh: {{model: izhikevich, size: 80, a: 0.1, b: 0.2, c: -65, d: 2, tau_syn: 2.0,
        v_init: {{uniform: [-70, -60]}}}}
""" + """\
projections:
  - {{pre: thalamus, post: exc, connect: {{fixed_indegree: 10}}, weight: {{uniform: [2.0, 6.0]}}}}
  - {{pre: thalamus, post: inh, connect: {{fixed_indegree: 10}}, weight: {{uniform: [2.0, 6.0]}}}}
  - {{pre: exc, post: exc, connect: {{fixed_indegree: 20}}, allow_self: false,
     weight: {{uniform: [0.0, 1.5]}}, delay: {{uniform_int: [1, 10]}}}}
  - {{pre: exc, post: inh, connect: {{fixed_indegree: 20}}, weight: {{uniform: [0.0, 1.5]}},
     delay: {{uniform_int: [1, 4]}}}}
  - {{pre: inh, post: exc, connect: {{fixed_indegree: 10}}, weight: {{uniform: [-3.0, 0.0]}}}}
  - {{pre: inh, post: inh, connect: {{fixed_indegree: 10}}, allow_self: false,
     weight: {{uniform: [-3.0, 0.0]}}}}
probes:
  - {{population: exc, var: v}}
  - {{population: exc, var: u}}
"""
ADAPTIVE = HEADER + """\
  exc: {{model: adaptive_lif, size: 320, tau_syn: 5.0, tau_mem: 20.0, tau_theta: 100.0,
        tau_r: 10.0, theta_0: 1.0, theta_step: 0.5}}
  inh: {{model: adaptive_lif, size: 80, tau_syn: 5.0, tau_mem: 10.0, tau_theta: 50.0,
        tau_r: 5.0, theta_0: 1.0, theta_step: 0.3}}
""" + """\
projections:
  - {{pre: thalamus, post: exc, connect: {{fixed_indegree: 10}}, weight: {{uniform: [0.02, 0.1]}}}}
  - {{pre: thalamus, post: inh, connect: {{fixed_indegree: 10}}, weight: {{uniform: [0.02, 0.1]}}}}
  - {{pre: exc, post: exc, connect: {{fixed_indegree: 20}}, allow_self: false,
     weight: {{uniform: [0.0, 0.05]}}, delay: {{uniform_int: [1, 10]}}}}
  - {{pre: exc, post: inh, connect: {{fixed_indegree: 20}}, weight: {{uniform: [0.0, 0.05]}},
     delay: {{uniform_int: [1, 4]}}}}
  - {{pre: inh, post: exc, connect: {{fixed_indegree: 10}}, weight: {{uniform: [-0.1, 0.0]}}}}
  - {{pre: inh, post: inh, connect: {{fixed_indegree: 10}}, allow_self: false,
     weight: {{uniform: [-0.1, 0.0]}}}}
probes:
  - {{population: exc, var: v}}
  - {{population: exc, var: theta}}
"""


def load(text: str, name: str):
    from nmcompile.frontends.modelfile import load_model
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"{name}.yaml")
        with open(path, "w") as fh:
            fh.write(text.format(name=name))
        return load_model(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--lava-steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5, help="emulator runs (median)")
    args = parser.parse_args()
    if args.lava_steps > args.steps:
        parser.error("--lava-steps must not exceed --steps (Lava's run is compared with the "
                     "first steps of the emulator's)")
    from nmcompile import driver
    from nmcompile.backends import get_backend

    first, how = warm_up_emulator()
    print(f"emulator first call: {first:.2f} s (kernel {how}; not in the times below)")
    for label, text in (("izhikevich", IZHIKEVICH), ("adaptive_lif", ADAPTIVE)):
        net = load(text, label).with_steps(args.steps)
        qnet = driver.prepare(net, get_backend("emulator"), "loihi2")
        print(f"\n{label}: {net.n_neurons - 100} neurons + 100 Poisson, {net.n_synapses} "
              f"synapses, dt {net.dt} ms")
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            emulated = driver.run(qnet, "emulator", steps=args.steps)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        lava = driver.run(qnet, "lava-fixed", steps=args.lava_steps)
        lava_time = time.perf_counter() - t0
        assert_prefix_bit_exact(emulated, lava, args.lava_steps)
        spikes = sum(t.size for name, (t, _) in emulated.spikes.items() if name != "thalamus")
        rate = spikes / (net.n_neurons - 100) / (args.steps * net.dt / 1000.0)
        overflow = sum(n for counts in emulated.meta["overflow"].values()
                       for n in counts.values())
        emu_step, lava_step = statistics.median(times) / args.steps, lava_time / args.lava_steps
        print(f"  bit-exact over the first {args.lava_steps} steps: every spike and every "
              f"probed register; {rate:.1f} Hz, {overflow} overflows")
        print(f"  emulator:   median {statistics.median(times):7.3f} s for {args.steps} steps "
              f"({', '.join(f'{t:.3f}' for t in times)}): {1e3 * emu_step:8.4f} ms/step")
        print(f"  lava-fixed: {lava_time:7.1f} s for {args.lava_steps} steps (incl. start-up): "
              f"{1e3 * lava_step:8.2f} ms/step")
        print(f"  speed-up per step emulator / lava-fixed: {lava_step / emu_step:.0f}x")


def assert_prefix_bit_exact(emulated, lava, steps: int) -> None:
    """Lava's run of `steps` steps equals the first `steps` steps of the emulator's."""
    for name, (t, n) in lava.spikes.items():
        early = emulated.spikes[name][0] < steps
        np.testing.assert_array_equal(emulated.spikes[name][0][early], t, err_msg=name)
        np.testing.assert_array_equal(emulated.spikes[name][1][early], n, err_msg=name)
    for key, trace in lava.traces.items():
        np.testing.assert_array_equal(emulated.traces[key][:steps].astype(np.int64),
                                      np.asarray(trace).astype(np.int64), err_msg=str(key))


def warm_up_emulator() -> tuple[float, str]:
    """Run an Izhikevich network for one step: imports numba and loads (or first compiles)
    the kernel these networks run (update_block_variants: not every population is plain
    LIF)."""
    from nmcompile import driver
    t0 = time.perf_counter()
    driver.run(load(IZHIKEVICH, "warm-up").with_steps(1), "emulator", steps=1, target="loihi2")
    from nmcompile.backends.emulator.kernel import update_block_variants
    hits = sum(update_block_variants.stats.cache_hits.values())
    return time.perf_counter() - t0, "loaded from disk cache" if hits else "JIT-compiled"


if __name__ == "__main__":
    main()
