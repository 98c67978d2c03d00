"""Build a 100,000-neuron, ~10-million-synapse fixed_probability network from YAML.

Prints wall time and peak memory (target: under 20 s and under 2 GB).
Usage: python benchmarks/build_scale.py [--neurons N] [--synapses S]
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

MODEL = """\
format: nmcompile/v1
name: build-scale
seed: 1
populations:
  drive: {{model: poisson, size: {n_src}, rate: 10}}
  cells: {{model: lif, size: {n}, tau_syn: 5.0, tau_mem: 20.0, v_th: 1.0}}
projections:
  - {{pre: drive, post: cells, connect: {{fixed_probability: {p_in}}}, weight: {{uniform: [0.0, 0.2]}}}}
  - {{pre: cells, post: cells, connect: {{fixed_probability: {p}}}, allow_self: false,
     weight: {{normal: [0.0, 0.1]}}, delay: {{uniform_int: [1, 20]}}}}
"""


def build_from_yaml(neurons: int, synapses: int):
    """Write the scale model for `neurons` and about `synapses`, load it: (network, seconds)."""
    from nmcompile.frontends.modelfile import load_model

    n_src = neurons // 100
    n = neurons - n_src
    p_in = 0.01
    p = (synapses - n_src * n * p_in) / (n * (n - 1))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scale.yaml")
        with open(path, "w") as fh:
            fh.write(MODEL.format(n_src=n_src, n=n, p_in=p_in, p=p))
        t0 = time.perf_counter()
        net = load_model(path)
        return net, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--neurons", type=int, default=100_000)
    parser.add_argument("--synapses", type=int, default=10_000_000)
    args = parser.parse_args()
    net, elapsed = build_from_yaml(args.neurons, args.synapses)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"build_scale: {net.n_neurons:,} neurons, {net.n_synapses:,} synapses")
    print(f"  time {elapsed:.2f} s (target < 20 s), peak memory {peak_mb:,.0f} MB (target < 2048 MB)")


if __name__ == "__main__":
    main()
