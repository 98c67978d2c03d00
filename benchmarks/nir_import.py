"""Import a spiking CNN from NIR: a (2, S, S) event input -> Conv2d 2->16 3x3 -> IF ->
SumPool2d 2 -> Conv2d 16->32 3x3 -> IF, every convolution expanded into synapses.

Prints the network's size, the wall time of load_nir (the file already written) and the peak
memory of the process. The pool and the second convolution fuse into one projection of
32·(S/2)²·16·9·4 synapses: at S = 128, 75.5 million of the 78.6 million.
Usage: python benchmarks/nir_import.py [--size S]
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

import nir
import numpy as np


def cnn(size: int) -> nir.NIRGraph:
    rng = np.random.default_rng(0)

    def conv(c_in: int, c_out: int, side: int) -> nir.Conv2d:
        return nir.Conv2d(input_shape=(side, side), weight=rng.normal(0, 0.3, (c_out, c_in, 3, 3)),
                          stride=1, padding=1, dilation=1, groups=1, bias=np.zeros(c_out))

    def if_layer(shape: tuple[int, ...]) -> nir.IF:
        return nir.IF(r=np.ones(shape), v_threshold=np.ones(shape))

    half = size // 2
    nodes = {"input": nir.Input(input_type={"input": np.array([2, size, size])}),
             "conv1": conv(2, 16, size), "if1": if_layer((16, size, size)),
             "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                                   padding=np.array([0, 0])),
             "conv2": conv(16, 32, half), "if2": if_layer((32, half, half))}
    edges = [("input", "conv1"), ("conv1", "if1"), ("if1", "pool"), ("pool", "conv2"),
             ("conv2", "if2")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128, help="input side S (default 128)")
    args = parser.parse_args()
    from nmcompile.frontends.nir import load_nir
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cnn.nir")
        nir.write(path, cnn(args.size))
        t0 = time.perf_counter()
        net = load_nir(path, dt=1.0)
        seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    print(f"NIR CNN {args.size}x{args.size}: {net.n_neurons:,} neurons, {net.n_synapses:,} "
          f"synapses in {len(net.projections)} projections")
    print(f"load_nir: {seconds:.1f} s, peak memory {peak:.2f} GiB "
          f"({peak * 2**30 / net.n_synapses:.0f} bytes per synapse)")


if __name__ == "__main__":
    main()
