"""CUBA, 4,000 LIF, 10,000 steps of 0.1 ms: steady-state simulation time of the emulator
(1 and 2 threads), Brian2 (cython, cpp_standalone) and NEST 3.10 (1 and 2 threads), one run.

The network follows Brian2's CUBA example (Vogels & Abbott 2005) within our LIF: 3,200 E +
800 I, 2 % connectivity, v measured from rest (threshold 10 mV), drive toward 11 mV as a bias,
one tau_syn of 5 ms, weights scaled so one spike moves v as in CUBA, no refractory period (so
the emulator runs its plain LIF loop). Every peer gets the very same synapses: NEST is
connected from the IR's arrays (net.projections: pre, post, weight, delay), its iaf_psc_exp
given our LIF's parameters (nest_connectivity; what still differs: benchmarks/README.md).

Steady state is the simulation loop alone; building (quantization, synapse tables, code
generation, NEST's Create/Connect) is reported apart. How each is measured:
* emulator: its own timer around its loop (result.meta["kernel_s"]); build = the rest of
  the run's wall time (quantization, synapse tables, result).
* Brian2 cython: the same run for 1 step and for all steps, alternated; steady state =
  median(all) − median(1 step), per step times the steps; build = median(1 step).
* Brian2 cpp_standalone: Brian2's own timer around its main loop (`Network::run` in the
  generated C++, written to results/last_run_info.txt, what `device._last_run_time` reports;
  std::clock, i.e. the loop's CPU time, since the project is built without OpenMP); build =
  the rest of the run's wall time (code generation, make, loading arrays, writing results).
* NEST: in a child process (its OpenMP runtime apart from numba's), Create + Connect timed as
  build, one 1-step Simulate (NEST's Prepare: its connection tables), then `Simulate` of all
  steps, timed, once per repeat, continuing the same network.
The figures go to the terminal and to out/bench/cuba.json. The emulator's numba kernel is
compiled once per machine (cached on disk, as Brian2 caches its code): its first call in a
process, loading or compiling it, is timed on its own.
Usage: python benchmarks/cuba.py [--steps N] [--repeats R] [--skip PEER]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "out" / "bench" / "cuba.json"
PEERS = ("emulator", "cython", "cpp_standalone", "nest")
THREADS = (1, 2)
TARGETS = {"cpp_standalone": 0.25, "nest 1 thread": 0.1}  # emulator (1 thread) / peer, at most
C_M = 250.0  # pF, NEST's iaf_psc_exp default: only sets the scale of currents

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


def spike_count(result) -> int:
    return sum(len(t) for t, _ in result.spikes.values())


def by_difference(run, steps: int, repeats: int) -> dict:
    """Steady state of `run(n_steps) -> Result` as the difference of full and 1-step runs,
    alternated `repeats` times (medians)."""
    short, full, spikes = [], [], 0
    for _ in range(repeats):
        for n, times in ((1, short), (steps, full)):
            t0 = time.perf_counter()
            result = run(n)
            times.append(time.perf_counter() - t0)
            if n == steps:
                spikes = spike_count(result)
    build = statistics.median(short)
    per_step = (statistics.median(full) - build) / (steps - 1)
    return {"build_s": build, "sim_s": per_step * steps, "runs_s": full,
            "one_step_runs_s": short, "spikes": spikes}


def emulator(net, steps: int, threads: int, repeats: int) -> dict:
    """Whole runs; the loop's time from the emulator's own timer (meta kernel_s), the rest of
    the run (quantization, synapse tables, result) as build."""
    from nmcompile import driver
    walls, loops = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = driver.run(net, "emulator", steps=steps, target="loihi2",
                            options={"threads": threads})
        walls.append(time.perf_counter() - t0)
        loops.append(result.meta["kernel_s"])
    return {"build_s": statistics.median(w - k for w, k in zip(walls, loops)),
            "sim_s": statistics.median(loops), "runs_s": walls, "loop_runs_s": loops,
            "threads_used": result.meta["threads"], "synapse_bytes": result.meta["synapse_bytes"],
            "spikes": spike_count(result)}


def brian2_cython(net, steps: int, repeats: int) -> dict:
    from nmcompile import driver
    driver.run(net, "brian2", steps=1, options={"code_target": "cython"})  # compile or load
    return by_difference(lambda n: driver.run(net, "brian2", steps=n,
                                              options={"code_target": "cython"}),
                         steps, repeats)


def brian2_cpp_standalone(net, steps: int, repeats: int) -> dict:
    """Each repeat a whole run (code generation, make, which finds nothing to rebuild after
    the first, the binary); its loop time from Brian2's own timer."""
    from nmcompile import driver
    from nmcompile.backends.brian2.code_targets import cache_root, model_hash
    info = cache_root() / "standalone" / model_hash(net, steps) / "results" / "last_run_info.txt"
    walls, loops, spikes = [], [], 0
    for _ in range(repeats + 1):  # the first run may compile the C++ project: not counted
        t0 = time.perf_counter()
        result = driver.run(net, "brian2", steps=steps, options={"code_target": "cpp_standalone"})
        walls.append(time.perf_counter() - t0)
        loops.append(float(info.read_text().split()[0]))
        spikes = spike_count(result)
    wall, loop = statistics.median(walls[1:]), statistics.median(loops[1:])
    return {"build_s": wall - loop, "sim_s": loop, "runs_s": walls[1:], "loop_runs_s": loops[1:],
            "first_run_s": walls[0], "spikes": spikes}


def nest_weight(w: np.ndarray, tau_syn: float, dt: float) -> np.ndarray:
    """Our weight (what a spike adds to u, in mV per step) as an iaf_psc_exp current jump (pA)
    of the same charge: our spike adds Σ u = w/du to v over its course, NEST's
    weight·τ_syn/C_m."""
    du = 1.0 - math.exp(-dt / tau_syn)
    return w / du * C_M / tau_syn


def nest_connectivity(net) -> dict:
    """NEST's view of the IR: one population of all neurons (E then I), and every synapse as
    (pre, post) indices into it, weight in pA and delay in ms."""
    offset = dict(zip(net.populations, np.cumsum([0] + [p.size for p in
                                                        net.populations.values()])))
    lif = next(iter(net.populations.values())).model
    pre, post, weight, delay = [], [], [], []
    for proj in net.projections:
        pre.append(proj.pre_idx + offset[proj.pre])
        post.append(proj.post_idx + offset[proj.post])
        weight.append(nest_weight(np.asarray(proj.weight, float), lif.tau_syn, net.dt))
        delay.append(proj.delay * net.dt)
    return {"n": net.n_neurons, "pre": np.concatenate(pre), "post": np.concatenate(post),
            "weight": np.concatenate(weight), "delay": np.concatenate(delay),
            # steady v − E_L = I_e·τ_m/C_m must be ours, bias/dv
            "I_e": lif.bias / (1.0 - math.exp(-net.dt / lif.tau_mem)) * C_M / lif.tau_mem,
            "params": [lif.tau_mem, lif.tau_syn, lif.v_th], "dt": net.dt}


def nest_child(path: str, threads: int, steps: int, repeats: int) -> None:
    """Runs in its own process: build and simulate in NEST, print one JSON line of figures."""
    import nest
    nest.verbosity = nest.VerbosityLevel.ERROR
    data = np.load(path)
    tau_m, tau_syn, v_th = data["params"].tolist()
    dt = float(data["dt"])
    t0 = time.perf_counter()
    nest.ResetKernel()
    nest.resolution = dt
    nest.local_num_threads = threads
    cells = nest.Create("iaf_psc_exp", int(data["n"]), params={
        "E_L": 0.0, "V_reset": 0.0, "V_m": 0.0, "V_th": v_th, "C_m": C_M, "tau_m": tau_m,
        "tau_syn_ex": tau_syn, "tau_syn_in": tau_syn, "t_ref": 0.0, "I_e": float(data["I_e"])})
    ids = np.asarray(cells.tolist())
    nest.Connect(ids[data["pre"]], ids[data["post"]], "one_to_one",
                 {"synapse_model": "static_synapse", "weight": data["weight"],
                  "delay": data["delay"]})
    recorder = nest.Create("spike_recorder")
    nest.Connect(cells, recorder)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    nest.Simulate(dt)
    prepare = time.perf_counter() - t0
    runs, spikes = [], []
    for _ in range(repeats):
        before = recorder.n_events
        t0 = time.perf_counter()
        nest.Simulate(steps * dt)
        runs.append(time.perf_counter() - t0)
        spikes.append(recorder.n_events - before)
    print(json.dumps({"build_s": build + prepare, "prepare_s": prepare,
                      "sim_s": statistics.median(runs), "runs_s": runs, "spikes": spikes[0],
                      "spikes_per_repeat": spikes, "connections": nest.num_connections,
                      "threads": nest.local_num_threads, "version": nest.__version__}))


def nest_peer(net, steps: int, threads: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cuba_nest.npz")
        np.savez(path, **nest_connectivity(net))
        here = os.path.dirname(os.path.abspath(__file__))
        code = (f"import sys; sys.path.insert(0, {here!r}); import cuba; "
                f"cuba.nest_child({path!r}, {threads}, {steps}, {repeats})")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"NEST ({threads} threads) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", type=int, default=4000)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3, help="medians of this many (3)")
    parser.add_argument("--skip", action="append", default=[], choices=PEERS,
                        help="leave out a peer (repeatable)")
    args = parser.parse_args()

    from nmcompile import driver
    net = cuba(args.neurons, 0.1)
    seconds = args.steps * net.dt / 1000.0
    print(f"CUBA: {net.n_neurons} LIF, {net.n_synapses} synapses, {args.steps} steps of "
          f"{net.dt} ms; medians of {args.repeats}; build is not in the simulation time; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    figures = {}
    if "emulator" not in args.skip:
        t0 = time.perf_counter()
        for n in THREADS:
            driver.run(net, "emulator", steps=1, target="loihi2", options={"threads": n})
        print(f"{'emulator first calls':>24}: {time.perf_counter() - t0:8.2f} s  (import numba, "
              f"load or compile its kernel for {' and '.join(map(str, THREADS))} threads)")
        for n in THREADS:
            figures[f"emulator {n} thread{'s' * (n > 1)}"] = emulator(net, args.steps, n,
                                                                     args.repeats)
    if "cython" not in args.skip:
        figures["brian2 cython"] = brian2_cython(net, args.steps, args.repeats)
    if "cpp_standalone" not in args.skip:
        figures["brian2 cpp_standalone"] = brian2_cpp_standalone(net, args.steps, args.repeats)
    if "nest" not in args.skip:
        for n in THREADS:
            figures[f"nest {n} thread{'s' * (n > 1)}"] = nest_peer(net, args.steps, n,
                                                                  args.repeats)
    for label, f in figures.items():
        rate = f["spikes"] / net.n_neurons / seconds
        used = f" on {f['threads_used']} thread(s)" if "threads_used" in f else ""
        print(f"{label:>24}: simulation {f['sim_s']:7.3f} s ({1e6 * f['sim_s'] / args.steps:6.1f}"
              f" µs/step), build {f['build_s']:6.2f} s  ({f['spikes']} spikes, {rate:.1f} Hz"
              f"{used})")
    ratios = {}
    base = figures.get("emulator 1 thread")
    for peer in figures:
        if base and not peer.startswith("emulator"):
            ratios[peer] = base["sim_s"] / figures[peer]["sim_s"]
            goal = next((t for key, t in TARGETS.items() if peer.endswith(key)), None)
            verdict = "" if goal is None else (
                f"  (target ≤ {goal}: {'met' if ratios[peer] <= goal else 'NOT met'})")
            print(f"emulator (1 thread) / {peer}: {ratios[peer]:.3f}{verdict}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "network": {"neurons": net.n_neurons, "synapses": net.n_synapses, "dt_ms": net.dt,
                    "steps": args.steps}, "repeats": args.repeats, "peers": figures,
        "ratios_emulator_1_thread_over": ratios, "targets": TARGETS,
        "load_average_after": os.getloadavg()}, indent=1))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
