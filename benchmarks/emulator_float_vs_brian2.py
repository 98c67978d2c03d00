"""Float emulator vs Brian2 on the CUBA network of cuba.py (4,000 LIF,
2% connectivity, 10,000 steps of 0.1 ms): wall times of `emulator-float` and of our Brian2
backend (cython, and cpp_standalone unless skipped), and whether their spikes and probed
u, v are identical to the last bit (they must be: DESIGN §3, the float emulator adds in
Brian2's order).

Wall times include building the simulation, as a user sees them; the float emulator's numba
kernel is compiled once per machine (cached on disk, as Brian2 caches its Cython code), so
its first call in a process, loading or compiling it, is timed on its own.
Usage: python benchmarks/emulator_float_vs_brian2.py [--steps N] [--probe K] [--skip cpp_standalone]
"""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

from cuba import cuba  # the same network (the script's folder is on sys.path)


def run(net, backend_name: str, steps: int, options: dict):
    """driver.run for a backend given by name or, for the float emulator, by class (so this
    runs whether or not its entry point is registered)."""
    from nmcompile import driver
    if backend_name != "emulator-float":
        return driver.run(net, backend_name, steps=steps, options=options)
    from nmcompile.backends.emulator_float import EmulatorFloatBackend
    backend = EmulatorFloatBackend()
    return backend.run(driver.prepare(net, backend), steps, options=options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--probe", type=int, default=1,
                        help="record u and v of population E (1) or not (0)")
    parser.add_argument("--skip", action="append", default=[],
                        help="leave out a peer: cython or cpp_standalone")
    args = parser.parse_args()
    from nmcompile.ir import Probe
    from nmcompile.parity.compare import compare_bit_exact

    net = cuba(args.neurons, 0.1)
    if args.probe:
        net = replace(net, probes=(Probe(population="E", var="u"), Probe(population="E", var="v")))
    print(f"CUBA: {net.n_neurons} LIF, {net.n_synapses} synapses, {args.steps} steps of 0.1 ms"
          + (", u and v of E probed" if args.probe else "")
          + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    t0 = time.perf_counter()
    run(net, "emulator-float", 1, {})
    from nmcompile.backends.emulator_float import kernel
    loaded = sum(sum(k.stats.cache_hits.values()) for k in (kernel.run_steps,
                                                           kernel.run_steps_threads))
    how = "loaded from disk cache" if loaded else "JIT-compiled"
    first = time.perf_counter() - t0
    print(f"{'emulator-float first call':>26}: {first:8.2f} s  (kernel {how}; not in its time "
          "below)")
    runs = [("emulator-float", "emulator-float", {})]
    runs += [(f"brian2 {ct}", "brian2", {"code_target": ct})
             for ct in ("cython", "cpp_standalone") if ct not in args.skip]
    timings, results = {}, {}
    for label, backend, options in runs:
        t0 = time.perf_counter()
        results[label] = run(net, backend, args.steps, options)
        timings[label] = time.perf_counter() - t0
        spikes = sum(len(t) for t, _ in results[label].spikes.values())
        rate = spikes / net.n_neurons / (args.steps * net.dt / 1000.0)
        print(f"{label:>26}: {timings[label]:8.2f} s  ({spikes} spikes, {rate:.1f} Hz)")
    ours = timings["emulator-float"]
    for label in timings:
        if label == "emulator-float":
            continue
        pair = compare_bit_exact(net, label, results[label], "emulator-float",
                                 results["emulator-float"], args.steps)
        print(f"{label} / emulator-float wall time: {timings[label] / ours:.2f}x "
              f"({timings[label] / (ours + first):.2f}x counting its first call); identical "
              f"spikes and probed values: {pair.verdict} ({pair.mismatches} mismatches)")


if __name__ == "__main__":
    main()
