"""The Potjans & Diesmann microcircuit (examples/microcircuit/), full scale by default, DC drive:
the emulator against NEST 3.10, each stage's wall time and peak memory, strong scaling.

Each peer runs in its own process (a child of this script); every stage is timed and its peak
resident memory taken from the kernel (/proc/self/status VmHWM, reset at the stage's start
through /proc/self/clear_refs), with the resident memory at its end.
* emulator: kernel (numba loads or compiles its kernel, on a 772-neuron copy of the circuit),
  load (the builder's model file through `load_model`, which draws every synapse),
  quantize (`driver.prepare` for loihi2), map (partition and design rules, what `nmc compile`
  does, on a loihi2 system of --chips chips), then `driver.run` once per --threads value.
  --ranks: `nmc run MODEL --backend emulator --ranks R --threads 1` (whole processes, the
  run's own times read back from its result).
* NEST 3.10: iaf_psc_exp built with NEST's own rules from the same numbers, as its
  Potjans_2014 example does: fixed_total_number with multapses and autapses, weights and
  delays normal and redrawn, normal initial V, the DC as I_e; one copy of static_synapse per
  source population (NEST allows at most 134,217,726 connections per thread and synapse
  model: the full circuit has 2.99·10⁸); every spike recorded, as the emulator does. Stages:
  create, connect, simulate (its first Simulate, NEST's Prepare included), once per --threads
  value (NEST is built for its thread count).
Strong scaling and the real-time factor (wall / model time) are taken from each simulator's
own timer around its loop (emulator meta kernel_s, NEST time_simulate), the stage's wall time
beside it. Figures go to the terminal, out/bench/microcircuit.json and a strong-scaling plot
(--plot, default out/bench/scaling.png).
Usage: python benchmarks/microcircuit.py [--scale 1.0] [--k-scale K] [--steps 10000]
       [--threads 1,2] [--ranks 1,2] [--peers emulator,nest]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "bench"
EXAMPLE = ROOT / "examples" / "microcircuit"
NMC = Path(sys.executable).parent / "nmc"
# how a child reports to this script: one JSON a line, or a line of text to show
STAGE, FAILED, INFO = "@stage ", "@failed ", "@info "
# NEST's peak memory per synapse, measured 49.6 (N 0.1, K 1, 1 thread) and 50.8 (full scale,
# 2 threads: 14.1 GiB), with a margin
NEST_BYTES_PER_SYNAPSE = 56
NEST_MAX_PER_THREAD_AND_MODEL = 134_217_726


def microcircuit_modules():
    """The example's model and builder (examples/microcircuit/: microcircuit.py, run.py)."""
    sys.path.insert(0, str(EXAMPLE))
    import microcircuit as model  # noqa: E402  (the example's, not this script)
    import run as builder  # noqa: E402
    return model, builder


# ---- measuring a stage (in a child) ---------------------------------------------------------

def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        return int(re.search(rf"^{field}:\s+(\d+) kB", fh.read(), re.M).group(1))


class Stage:
    """Times a stage and takes its own peak resident memory; prints one @stage line."""

    def __init__(self, name: str, **extra):
        self.name, self.extra = name, extra

    def __enter__(self):
        with open("/proc/self/clear_refs", "w") as fh:  # "5": reset the peak RSS (VmHWM)
            fh.write("5")
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, kind, exc, tb):
        wall = time.perf_counter() - self.t0
        if exc is not None:
            print(FAILED + json.dumps({"stage": self.name, "error": f"{kind.__name__}: {exc}"}),
                  flush=True)
            return False
        print(STAGE + json.dumps(dict(stage=self.name, wall_s=wall,
                                      peak_gib=_status_kib("VmHWM") / 2**20,
                                      rss_gib=_status_kib("VmRSS") / 2**20, **self.extra)),
              flush=True)
        return False


# ---- the emulator (child) --------------------------------------------------------------------

def emulator_child(args) -> None:
    from dataclasses import replace

    from nmcompile import driver
    from nmcompile.backends import get_backend
    from nmcompile.frontends.modelfile import load_model
    from nmcompile.passes.mapping import partition, population_costs
    from nmcompile.passes.mapping.drc import check_design_rules
    from nmcompile.targets import load_target

    model, builder = microcircuit_modules()
    tiny = builder.build(model.derive(0.01, 0.01, "dc"), 1, 10, args.seed).build(str(EXAMPLE))
    with Stage("kernel"):  # numba loads (or compiles) the kernel once per process and threads
        for threads in args.thread_list:
            driver.run(tiny, "emulator", options={"threads": threads})
    with Stage("load"):
        net = load_model(args.model)
    print(f"{INFO}{net.n_neurons:,} neurons, {net.n_synapses:,} synapses", flush=True)
    with Stage("quantize"):
        qnet = driver.prepare(net, get_backend("emulator"), "loihi2")
    base = load_target("loihi2")
    target = replace(base, resources=replace(base.resources, chips=args.chips))
    with Stage("map") as stage:
        costs = population_costs(net)
        mapping = partition(net, target, costs)
        errors = [d for d in check_design_rules(net, target, mapping, costs)
                  if d.severity == "error"]
        stage.extra = {"cores": int(mapping.cores.size), "chips": int(mapping.n_chips),
                       "design_rule_errors": [d.message for d in errors]}
    del mapping, costs
    for threads in args.thread_list:
        with Stage("run", threads=threads) as stage:
            result = driver.run(qnet, "emulator", steps=args.steps,
                                options={"threads": threads})
            stage.extra.update(spikes=result.neuron_spike_count(),
                               **{key: result.meta[key] for key in
                                  ("threads", "kernel_s", "build_s", "synapse_bytes")})
        del result


# ---- NEST (child) ----------------------------------------------------------------------------

def nest_child(args) -> None:
    import nest
    import numpy as np
    model, _ = microcircuit_modules()
    mc = model.derive(args.scale, args.k_scale, "dc")
    dt = mc.dt
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    nest.resolution = dt
    nest.local_num_threads = args.threads
    nest.rng_seed = args.seed
    with Stage("create", threads=args.threads):
        pops = []
        for k, name in enumerate(model.POPULATIONS):
            pop = nest.Create("iaf_psc_exp", int(mc.sizes[k]), params={
                "C_m": model.C_M, "tau_m": model.TAU_M, "tau_syn_ex": model.TAU_SYN,
                "tau_syn_in": model.TAU_SYN, "t_ref": model.T_REF, "E_L": model.E_L,
                "V_reset": model.V_RESET, "V_th": model.V_TH, "I_e": float(mc.dc_pa[k])})
            pop.V_m = nest.random.normal(mean=float(model.V0_MEAN[k]),
                                         std=float(model.V0_STD[k]))
            pops.append(pop)
        recorder = nest.Create("spike_recorder")
    weights = model.psp_matrix() * model.nest_psc_over_psp() / np.sqrt(mc.k_scaling)  # pA
    per_thread = mc.synapses.sum(axis=0).max() / args.threads  # targets spread over threads
    if per_thread > NEST_MAX_PER_THREAD_AND_MODEL:
        raise ValueError(f"~{per_thread:,.0f} connections of one source population per thread: "
                         f"more than NEST's {NEST_MAX_PER_THREAD_AND_MODEL:,} per synapse model")
    with Stage("connect", threads=args.threads) as stage:
        for j, pre in enumerate(model.POPULATIONS):
            synapse = f"static_{pre}"  # one model per source: each under NEST's limit
            nest.CopyModel("static_synapse", synapse)
            mean_delay = model.DELAY_MEAN[pre[-1]]
            for i in range(len(model.POPULATIONS)):
                if not mc.synapses[i, j]:
                    continue
                w = float(weights[i, j])
                nest.Connect(pops[j], pops[i], {
                    "rule": "fixed_total_number", "N": int(mc.synapses[i, j]),
                    "allow_autapses": True, "allow_multapses": True}, {
                    "synapse_model": synapse,
                    "weight": nest.math.redraw(nest.random.normal(mean=w, std=abs(w) * 0.1),
                                               min=0.0 if w > 0 else -np.inf,
                                               max=np.inf if w > 0 else 0.0),
                    "delay": nest.math.redraw(
                        nest.random.normal(mean=mean_delay, std=mean_delay * model.DELAY_REL_SD),
                        min=dt * 0.5, max=np.inf)})
        for pop in pops:
            nest.Connect(pop, recorder)
        stage.extra["connections"] = nest.num_connections
    with Stage("simulate", threads=args.threads) as stage:
        nest.Simulate(args.steps * dt)
        stage.extra.update(spikes=int(recorder.n_events),
                           nest_time_simulate_s=nest.GetKernelStatus("time_simulate"),
                           nest_time_communicate_prepare_s=float(np.sum(
                               nest.GetKernelStatus("time_communicate_prepare"))))


# ---- the parent ------------------------------------------------------------------------------

def memory_share(processes: int = 1):
    """A preexec_fn: the child (and each process it starts) may use no more address space than
    its share of the memory available now. A network too big for the machine then stops with a
    MemoryError at the stage that needed the memory, instead of waking the kernel's OOM
    killer, which might pick another process."""
    from nmcompile.memory import available_memory
    limit = available_memory() // processes
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_child(label: str, argv: list[str]) -> dict:
    """Run one child to the end, echo what it prints, collect its @stage lines."""
    print(f"== {label}", flush=True)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=memory_share())
    stages, failure, tail = [], None, []
    for line in proc.stdout:
        if line.startswith(STAGE):
            stages.append(json.loads(line[len(STAGE):]))
            s = stages[-1]
            loop = f" (its loop {s['kernel_s']:.2f} s)" if "kernel_s" in s else ""
            print(f"  {s['stage']:>9}: {s['wall_s']:9.2f} s, peak {s['peak_gib']:6.2f} GiB, "
                  f"resident after {s['rss_gib']:6.2f} GiB{loop}", flush=True)
        elif line.startswith(FAILED):
            failure = json.loads(line[len(FAILED):])
        elif line.startswith(INFO):
            print("  " + line[len(INFO):], end="", flush=True)
        else:
            tail = (tail + [line])[-20:]
    code = proc.wait()
    if code and failure is None:
        failure = {"stage": "?", "error": f"exit code {code}: " + "".join(tail)[-2000:]}
    if failure:
        print(f"  failed at {failure['stage']}: {failure['error']}", flush=True)
    return {"stages": stages, "failed": failure}


def nmc_run_ranks(model_path: str, steps: int, ranks: int, out: str):
    return subprocess.run([str(NMC), "run", model_path, "--backend", "emulator", "--steps",
                           str(steps), "--ranks", str(ranks), "--threads", "1", "-q", "-o", out],
                          capture_output=True, text=True, preexec_fn=memory_share(ranks))


def run_ranks(model_path: str, warm_up_path: str, steps: int, ranks: int, tmp: str) -> dict:
    """`nmc run --ranks R --threads 1`: the whole process's wall time, and its run's own and
    its loop's (meta wall_time_s, kernel_s). A run of the tiny circuit on as many ranks comes
    first, so that numba's disk cache holds the kernel: the loop then includes only loading
    it, not compiling it."""
    from nmcompile.result import Result
    out = os.path.join(tmp, f"ranks{ranks}.npz")
    nmc_run_ranks(warm_up_path, 10, ranks, out)
    t0 = time.perf_counter()
    proc = nmc_run_ranks(model_path, steps, ranks, out)
    wall = time.perf_counter() - t0
    if proc.returncode:
        return {"ranks": ranks, "failed": proc.stderr.strip()[-2000:]}
    meta = Result.load(out).meta
    return {"ranks": ranks, "process_wall_s": wall, "run_wall_s": meta["wall_time_s"],
            "loop_s": meta.get("kernel_s", meta["wall_time_s"])}


def scaling_rows(results: dict, model_seconds: float) -> list[dict]:
    """One row per (peer, workers): the stage's wall time, the simulator's own timer around its
    loop (emulator kernel_s, NEST time_simulate), real-time factor and speed-up of the loop."""
    rows = []
    for peer, stage_name, loop in (("emulator", "run", "kernel_s"),
                                   ("nest", "simulate", "nest_time_simulate_s")):
        for child in results.get(peer, []):
            for s in child["stages"]:
                if s["stage"] == stage_name:
                    rows.append({"peer": peer, "kind": "threads", "workers": s["threads"],
                                 "wall_s": s["wall_s"], "loop_s": s[loop]})
    for r in results.get("ranks", []):
        if "failed" not in r:
            rows.append({"peer": "emulator", "kind": "ranks", "workers": r["ranks"],
                         "wall_s": r["run_wall_s"], "loop_s": r["loop_s"]})
    for row in rows:
        base = next((r["loop_s"] for r in rows if (r["peer"], r["kind"], r["workers"])
                     == (row["peer"], row["kind"], 1)), None)
        row["rtf"] = row["loop_s"] / model_seconds
        row["speedup"] = base / row["loop_s"] if base else None
        row["efficiency"] = row["speedup"] / row["workers"] if base else None
    return rows


def print_scaling(rows: list[dict]) -> None:
    print("\nstrong scaling: wall time of the run (NEST: simulate) stage, and of its loop alone")
    print(f"{'peer':>9} {'':>7} {'n':>3} {'wall s':>9} {'loop s':>9} {'RTF':>8} "
          f"{'speed-up':>9} {'eff.':>6}")
    for r in rows:
        speed = f"{r['speedup']:9.2f} {r['efficiency']:6.2f}" if r["speedup"] else ""
        print(f"{r['peer']:>9} {r['kind']:>7} {r['workers']:3d} {r['wall_s']:9.2f} "
              f"{r['loop_s']:9.2f} {r['rtf']:8.2f} {speed}")


def plot_scaling(rows: list[dict], title: str, path: Path) -> None:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    for k, key in enumerate(sorted({(r["peer"], r["kind"]) for r in rows})):
        mine = sorted((r for r in rows if (r["peer"], r["kind"]) == key),
                      key=lambda r: r["workers"])
        n = [r["workers"] for r in mine]
        ax.plot(n, [r["rtf"] for r in mine], "o-", color=f"C{k}", label=" ".join(key))
        ax.plot(n, [mine[0]["rtf"] * mine[0]["workers"] / w for w in n], ":", color=f"C{k}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    workers = sorted({r["workers"] for r in rows})
    ax.set_xticks(workers, [str(w) for w in workers])
    ax.minorticks_off()
    ax.set_xlabel("threads or MPI ranks")
    ax.set_ylabel("real-time factor of the loop (wall / model time)")
    ax.set_title(title + " (dotted: ideal)", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")


def int_list(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"positive integers expected, got {text!r}")
    return values


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="N_scaling (default 1.0)")
    parser.add_argument("--k-scale", type=float, default=None,
                        help="K_scaling (default: --scale, as NEST's example)")
    parser.add_argument("--steps", type=int, default=10_000, help="steps of 0.1 ms (10,000)")
    parser.add_argument("--threads", type=int_list, default=[1, 2], dest="thread_list",
                        help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--ranks", type=int_list, default=[1, 2], dest="rank_list",
                        help="comma-separated MPI rank counts for the emulator (default 1,2)")
    parser.add_argument("--peers", default="emulator,nest", help="default emulator,nest")
    parser.add_argument("--chips", type=int, default=256,
                        help="loihi2 chips for the mapping stage (default 256)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plot", type=Path, default=OUT / "scaling.png")
    parser.add_argument("--json", type=Path, default=OUT / "microcircuit.json")
    # the children: which peer, the model file, and NEST's one thread count
    parser.add_argument("--child", choices=["emulator", "nest"], help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--nest-threads", type=int, dest="threads", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.k_scale = args.scale if args.k_scale is None else args.k_scale
    return args


def child_argv(args, peer: str, *extra: str) -> list[str]:
    return [sys.executable, __file__, "--child", peer, "--scale", str(args.scale),
            "--k-scale", str(args.k_scale), "--steps", str(args.steps), "--seed", str(args.seed),
            "--chips", str(args.chips),
            "--threads", ",".join(map(str, args.thread_list)), *extra]


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child == "emulator":
        emulator_child(args)
        return 0
    if args.child == "nest":
        nest_child(args)
        return 0
    import yaml

    from nmcompile.memory import available_memory
    model, builder = microcircuit_modules()
    mc = model.derive(args.scale, args.k_scale, "dc")
    synapses, seconds = int(mc.synapses.sum()), args.steps * mc.dt / 1000.0
    title = (f"microcircuit N {args.scale:g}, K {args.k_scale:g}, DC drive: "
             f"{mc.sizes.sum():,} neurons, {synapses:,} synapses, {seconds:g} s")
    print(title + f" ({args.steps} steps of {mc.dt} ms); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    peers = args.peers.split(",")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        model_path = os.path.join(tmp, "microcircuit.yaml")
        with open(model_path, "w") as fh:
            yaml.safe_dump(builder.build(mc, 1, args.steps, args.seed).doc, fh, sort_keys=False)
        if "emulator" in peers:
            results["emulator"] = [run_child("emulator", child_argv(args, "emulator", "--model",
                                                                    model_path))]
            print("== emulator on MPI ranks (nmc run --ranks)")
            tiny_path = os.path.join(tmp, "tiny.yaml")
            with open(tiny_path, "w") as fh:
                yaml.safe_dump(builder.build(model.derive(0.01, 0.01, "dc"), 1, 10,
                                             args.seed).doc, fh, sort_keys=False)
            results["ranks"] = [run_ranks(model_path, tiny_path, args.steps, r, tmp)
                                for r in args.rank_list]
            for r in results["ranks"]:
                print(f"  ranks {r['ranks']}: " + (f"failed: {r['failed']}" if "failed" in r
                      else f"run {r['run_wall_s']:.2f} s (its loop {r['loop_s']:.2f} s), "
                           f"whole process {r['process_wall_s']:.2f} s"))
        if "nest" in peers:
            results["nest"] = []
            for threads in args.thread_list:
                need = NEST_BYTES_PER_SYNAPSE * synapses
                if need > available_memory():
                    print(f"== NEST, {threads} thread(s): skipped, needs ~{need / 2**30:.1f} GiB, "
                          f"{available_memory() / 2**30:.1f} GiB available")
                    continue
                results["nest"].append(run_child(
                    f"NEST 3.10, {threads} thread(s)",
                    child_argv(args, "nest", "--nest-threads", str(threads))))
    rows = scaling_rows(results, seconds)
    print_scaling(rows)
    if rows:
        plot_scaling(rows, title, args.plot)
        print(f"wrote {args.plot}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "scale": args.scale, "k_scale": args.k_scale, "steps": args.steps, "dt_ms": mc.dt,
        "neurons": int(mc.sizes.sum()), "synapses": synapses, "results": results,
        "scaling": rows, "load_average_after": os.getloadavg()}, indent=1))
    print(f"wrote {args.json}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
