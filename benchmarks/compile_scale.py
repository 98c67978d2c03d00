"""Quantize and map a 100,000-neuron, ~10-million-synapse network (the build_scale.py model), or
the Potjans–Diesmann microcircuit (--microcircuit N_SCALE, K_scaling 1, DC drive: 298 million
synapses at N_SCALE 1), as `nmc compile --report` does, minus the emulator run.

Prints the time and peak memory (VmHWM, reset before each stage where Linux allows) of each
stage beside the memory it adds per synapse over the loaded network (the mapping should add a
few bytes a synapse at most: it regroups one population's synapses at a time, 4 bytes each),
the mapping found, and the static inter-chip traffic of the KL placement against sequential.
Targets for the default network: under 60 s and under 4 GB in all. loihi2 as shipped is one
chip; random connectivity at this scale needs dozens of chips (input axons bound a core), so
the target is loihi2 with --chips chips (default 64; 1024 for the microcircuit). --image F
also writes the chip image (streamed, deflated) and reports its size.
Usage: python benchmarks/compile_scale.py [--neurons N] [--synapses S] [--chips C]
           [--microcircuit N_SCALE] [--image FILE]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from dataclasses import replace

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from build_scale import build_from_yaml  # noqa: E402  (the same YAML as the build benchmark)


def memory_mb() -> tuple[float, float]:
    """(resident now, peak since the last reset) in MB; the peak is the process's own where
    /proc cannot tell."""
    try:
        with open("/proc/self/status") as fh:
            fields = dict(line.split(":", 1) for line in fh)
        return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)
    except (OSError, KeyError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


def reset_peak() -> None:
    """Restart VmHWM from the present RSS (Linux ≥ 4.0), so each stage gets its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


class Stages:
    """Time and memory of each stage, the added memory per synapse of the network."""

    def __init__(self, synapses: int):
        self.synapses = max(synapses, 1)
        self.total = 0.0

    def run(self, name: str, step):
        before = memory_mb()[0]
        reset_peak()
        t0 = time.perf_counter()
        out = step()
        seconds = time.perf_counter() - t0
        self.total += seconds
        now, peak = memory_mb()
        added = max(peak - before, 0.0) * 2**20 / self.synapses
        print(f"  {name:<14} {seconds:7.1f} s   peak {peak:8,.0f} MB   (+{added:5.1f} bytes a "
              f"synapse over {before:,.0f} MB)", flush=True)
        return out


def microcircuit(n_scale: float):
    """The example's microcircuit at N_scaling n_scale, K_scaling 1, DC drive: (network, s)."""
    sys.path.insert(0, os.path.join(HERE, "..", "examples", "microcircuit"))
    import microcircuit as model  # noqa: E402
    import run as example  # noqa: E402
    t0 = time.perf_counter()
    net = example.build(model.derive(n_scale, 1.0, "dc"), 1, 1000).build()
    return net, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", type=int, default=100_000)
    parser.add_argument("--synapses", type=int, default=10_000_000)
    parser.add_argument("--chips", type=int)
    parser.add_argument("--microcircuit", type=float, metavar="N_SCALE")
    parser.add_argument("--image", metavar="FILE")
    args = parser.parse_args()
    from nmcompile.passes.mapping import partition, population_costs
    from nmcompile.passes.mapping.drc import check_design_rules
    from nmcompile.passes.mapping.pairs import count_pairs
    from nmcompile.passes.mapping.report import mapping_report
    from nmcompile.passes.quantize import quantize
    from nmcompile.targets import load_target

    if args.microcircuit:
        net, t_load = microcircuit(args.microcircuit)
    else:
        net, t_load = build_from_yaml(args.neurons, args.synapses)
    chips = args.chips or (1024 if args.microcircuit else 64)
    base = load_target("loihi2")
    target = replace(base, resources=replace(base.resources, chips=chips))
    print(f"compile_scale: {net.n_neurons:,} neurons, {net.n_synapses:,} synapses (built in "
          f"{t_load:.1f} s, {memory_mb()[0]:,.0f} MB, peak {memory_mb()[1]:,.0f} MB)", flush=True)
    stages = Stages(net.n_synapses)
    qnet = stages.run("quantize", lambda: quantize(net, target))
    costs = stages.run("costs", lambda: population_costs(net))
    mapping = stages.run("partition", lambda: partition(net, target, costs))
    violations = stages.run("design rules", lambda: check_design_rules(net, target, mapping,
                                                                       costs))
    stages.run("report", lambda: mapping_report(net, target, mapping, costs))
    if args.image:
        from nmcompile.passes.mapping.image import write_image
        stages.run("image", lambda: write_image(args.image, qnet, mapping))
        print(f"  image {args.image}: {os.path.getsize(args.image) / 2**20:,.0f} MB "
              f"({os.path.getsize(args.image) / net.n_synapses:.1f} bytes a synapse)")
    print(f"  total {stages.total:.1f} s (target < 60 s for the default network)")
    print(f"  mapping: {mapping.cores.size:,} cores on {mapping.n_chips} chips of loihi2 "
          f"(placement {mapping.placement}); {len(violations)} design-rule violation(s)")
    for d in violations:
        print(f"    {d.message}")
    naive = partition(net, target, costs, optimise=False)
    placed = int(count_pairs(net, mapping).other_chip.sum())
    sequential = int(count_pairs(net, naive).other_chip.sum())
    print(f"  inter-chip (neuron, core) pairs: placed {placed:,} vs sequential {sequential:,}")


if __name__ == "__main__":
    main()
