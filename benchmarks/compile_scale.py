"""Quantize and map a 100,000-neuron, ~10-million-synapse network (the build_scale.py model).

Prints the time and peak memory of each step (target: under 60 s and under 4 GB in all), the
mapping found, and the static inter-chip traffic of the KL placement against sequential.
loihi2 as shipped is one chip; random connectivity at this scale needs dozens of chips
(input axons bound a core), so the target is loihi2 with --chips chips (default 64).
Usage: python benchmarks/compile_scale.py [--neurons N] [--synapses S] [--chips C]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from dataclasses import replace

sys.path.insert(0, os.path.dirname(__file__))
from build_scale import build_from_yaml  # noqa: E402  (the same YAML as the build benchmark)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", type=int, default=100_000)
    parser.add_argument("--synapses", type=int, default=10_000_000)
    parser.add_argument("--chips", type=int, default=64)
    args = parser.parse_args()
    from nmcompile.passes.mapping import partition, population_costs
    from nmcompile.passes.mapping.drc import check_design_rules
    from nmcompile.passes.mapping.partition import core_packets
    from nmcompile.passes.mapping.placement import inter_chip_packets
    from nmcompile.passes.quantize import quantize
    from nmcompile.targets import load_target

    net, t_load = build_from_yaml(args.neurons, args.synapses)
    base = load_target("loihi2")
    target = replace(base, resources=replace(base.resources, chips=args.chips))
    print(f"compile_scale: {net.n_neurons:,} neurons, {net.n_synapses:,} synapses "
          f"(built in {t_load:.1f} s, peak {peak_mb():,.0f} MB)")

    t0, c0 = time.perf_counter(), time.process_time()
    quantize(net, target)
    t_quant, c_quant = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    costs = population_costs(net)
    mapping = partition(net, target, costs)
    violations = check_design_rules(net, target, mapping, costs)
    t_map, c_map = time.perf_counter() - t0, time.process_time() - c0
    print(f"  quantize {t_quant:.2f} s (cpu {c_quant:.2f} s); map + design rules {t_map:.2f} s "
          f"(cpu {c_map:.2f} s); total {t_quant + t_map:.2f} s (target < 60 s); peak memory "
          f"{peak_mb():,.0f} MB (target < 4096 MB)")
    print(f"  mapping: {mapping.cores.size:,} cores on {mapping.n_chips} chips of loihi2 "
          f"(placement {mapping.placement}); {len(violations)} design-rule violation(s)")
    for d in violations:
        print(f"    {d.message}")
    naive = partition(net, target, costs, optimise=False)
    placed = inter_chip_packets(mapping, core_packets(net, mapping))
    sequential = inter_chip_packets(naive, core_packets(net, naive))
    print(f"  inter-chip (neuron, core) pairs: placed {placed:,} vs sequential {sequential:,}")


if __name__ == "__main__":
    main()
