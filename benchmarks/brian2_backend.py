"""Overhead of the nmcompile Brian2 backend against the same model written by hand in Brian2.

CUBA-style network: 4,000 LIF (3,200 excitatory, 800 inhibitory), 2% random connectivity,
driven by bias, 1,000 steps of 1 ms. Both sides get the same synapses and the same DESIGN §2
discrete equations on the same code target and compiler flags; the hand-written side is how
a Brian2 user would write CUBA (one NeuronGroup with two subgroups, two Synapses). Each side
is timed from the network description to spikes in hand (objects, run, read-out), the best
of --repeats interleaved runs after one warm-up each. Both must give identical spikes.

    python benchmarks/brian2_backend.py [--code-target numpy|cython] [--repeats 5]
"""
from __future__ import annotations

import argparse
import gc
import time

import numpy as np

from nmcompile.ir import LIF, Network, Population, Projection, stable_rng

N_E, N_I, P, STEPS = 3200, 800, 0.02, 1000
W_E, W_I = 0.006, -0.03
MODEL = LIF(tau_syn=5.0, tau_mem=20.0, v_th=1.0, bias=0.055)


def cuba_network() -> Network:
    """The IR network: E and I populations, four random projections, delay 1."""
    rng = stable_rng(1, "cuba")
    sizes = {"E": N_E, "I": N_I}
    pops = {name: Population(name=name, size=n, model=MODEL) for name, n in sizes.items()}
    projections = []
    for pre, weight in (("E", W_E), ("I", W_I)):
        for post in ("E", "I"):
            pre_idx, post_idx = np.nonzero(rng.random((sizes[pre], sizes[post])) < P)
            projections.append(Projection(
                name=f"{pre}_{post}", pre=pre, post=post, pre_idx=pre_idx.astype(np.int32),
                post_idx=post_idx.astype(np.int32), weight=np.full(pre_idx.size, weight),
                delay=np.ones(pre_idx.size, np.int32)))
    return Network(name="cuba", populations=pops, projections=tuple(projections), steps=STEPS)


def run_backend(net: Network, code_target: str):
    from nmcompile.backends.brian2 import Brian2Backend
    result = Brian2Backend().run(net, STEPS, options={"code_target": code_target})
    return {pop: result.spikes[pop] for pop in ("E", "I")}


def run_by_hand(net: Network, code_target: str):
    """CUBA in plain Brian2 with the DESIGN §2 step, as a user would write it."""
    import brian2 as b2
    from nmcompile.backends.brian2.code_targets import EXACT_GCC_ARGS, cache_root

    b2.prefs.codegen.target = code_target
    b2.prefs.codegen.cpp.extra_compile_args_gcc = EXACT_GCC_ARGS
    b2.prefs.codegen.runtime.cython.cache_dir = str(cache_root() / "cython")
    b2.defaultclock.dt = 1 * b2.ms
    ns = {"u_keep": 1 - MODEL.du(1.0), "v_keep": 1 - MODEL.dv(1.0), "bias": MODEL.bias,
          "v_th": MODEL.v_th}
    group = b2.NeuronGroup(N_E + N_I, "u : 1\nv : 1\na_acc : 1", threshold="v > v_th",
                           reset="v = 0", namespace=ns, name="cuba")
    group.run_regularly("u = u * u_keep\nu = u + a_acc\na_acc = 0\n"
                        "v = v * v_keep\nv = v + u\nv = v + bias", when="groups")
    exc, inh = group[:N_E], group[N_E:]
    offset = {"E": 0, "I": N_E}
    synapses = []
    for pre, source in (("E", exc), ("I", inh)):
        syn = b2.Synapses(source, group, "w : 1 (constant)", on_pre="a_acc_post += w")
        projs = [p for p in net.projections if p.pre == pre]
        syn.connect(i=np.concatenate([p.pre_idx for p in projs]),
                    j=np.concatenate([p.post_idx + offset[p.post] for p in projs]))
        syn.w = np.concatenate([p.weight for p in projs])
        synapses.append(syn)
    monitor = b2.SpikeMonitor(group)
    b2.Network(group, *synapses, monitor).run(STEPS * b2.ms)
    step = np.rint(monitor.t_ / 1e-3).astype(np.int64)
    neuron = np.asarray(monitor.i, np.int64)
    out = {}
    for pop, lo, hi in (("E", 0, N_E), ("I", N_E, N_E + N_I)):
        keep = (neuron >= lo) & (neuron < hi)
        t, n = step[keep], neuron[keep] - lo
        order = np.lexsort((n, t))
        out[pop] = (t[order], n[order])
    return out


def timed(fn, *args):
    gc.collect()
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--code-target", choices=["numpy", "cython"], default="numpy")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    net = cuba_network()
    print(f"CUBA: {net.n_neurons} LIF, {net.n_synapses} synapses, {STEPS} steps, "
          f"code target {args.code_target}")
    run_backend(net, args.code_target)   # warm-up: imports, compiled-code caches
    run_by_hand(net, args.code_target)
    ours, hand = [], []
    for _ in range(args.repeats):
        t_ours, spikes_ours = timed(run_backend, net, args.code_target)
        t_hand, spikes_hand = timed(run_by_hand, net, args.code_target)
        ours.append(t_ours)
        hand.append(t_hand)
    same = all(np.array_equal(a, b) for pop in spikes_ours
               for a, b in zip(spikes_ours[pop], spikes_hand[pop]))
    n_spikes = sum(len(t) for t, _ in spikes_ours.values())
    print(f"spikes: {n_spikes} ({n_spikes / net.n_neurons / STEPS * 1000:.1f} Hz mean), "
          f"identical: {'yes' if same else 'NO'}")
    print(f"nmcompile brian2 backend: {min(ours):7.3f} s   (runs: "
          + ", ".join(f"{t:.3f}" for t in ours) + ")")
    print(f"hand-written Brian2:      {min(hand):7.3f} s   (runs: "
          + ", ".join(f"{t:.3f}" for t in hand) + ")")
    print(f"overhead ratio: {min(ours) / min(hand):.3f}x   (target <= 1.1x)")
    if not same:
        raise SystemExit("the backend and the hand-written model disagree")


if __name__ == "__main__":
    main()
