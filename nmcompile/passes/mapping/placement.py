"""Placement: assign the partition's cores to chips so that few spike packets cross chips.

Cores are nodes of an undirected graph weighted by the packets they exchange (distinct
(neuron, destination core) pairs, see pairs.py). With more cores than one chip holds, the
graph is cut recursively with Kernighan–Lin bisection (networkx), starting from the
sequential placement, so a cut is only ever kept when it lowers the traffic it cuts.
count_pairs(...).other_chip measures the outcome; tests and benchmarks compare it with
sequential.
"""
from __future__ import annotations

from dataclasses import replace

import networkx as nx
import numpy as np
from networkx.algorithms.community import kernighan_lin_bisection

from .blocks import Mapping
from .pairs import count_pairs

KL_MAX_CORES = 2048     # beyond this (or KL_MAX_EDGES), Python KL costs more than it saves
KL_MAX_EDGES = 200_000


def place_cores(net, mapping: Mapping, optimise: bool = True) -> Mapping:
    """Relabel logical cores 0..C-1 as global cores chip·cores_per_chip + k."""
    n_cores = int(mapping.block_core.max()) + 1 if mapping.block_core.size else 0
    cpc = mapping.cores_per_chip
    n_chips = max(1, -(-n_cores // cpc))
    symmetric = None
    if n_chips > 1 and optimise and n_cores <= KL_MAX_CORES:  # else KL is not tried: no pairs
        packets = count_pairs(net, mapping, packets=True).packets
        symmetric = packets + packets.T
    if symmetric is None or np.count_nonzero(symmetric) > KL_MAX_EDGES:
        label = "sequential" if n_chips == 1 or not optimise else "sequential (too large for KL)"
        chip_of = np.arange(n_cores) // cpc
    else:
        graph = nx.Graph()
        graph.add_nodes_from(range(n_cores))
        rows, cols = np.nonzero(np.triu(symmetric, 1))
        graph.add_weighted_edges_from((int(i), int(j), int(symmetric[i, j]))
                                      for i, j in zip(rows, cols))
        chip_of = np.zeros(n_cores, np.int64)
        for chip, group in enumerate(_bisect(graph, list(range(n_cores)), n_chips, cpc)):
            chip_of[group] = chip
        label = "kernighan-lin"
    new_id = np.zeros(n_cores, np.int64)
    for chip in range(n_chips):
        members = np.flatnonzero(chip_of == chip)
        new_id[members] = chip * cpc + np.arange(members.size)
    return replace(mapping, block_core=new_id[mapping.block_core], placement=label)


def _bisect(graph: nx.Graph, nodes: list[int], chips: int, cpc: int) -> list[list[int]]:
    """Split `nodes` over `chips` chips of `cpc` cores, halving the chip count each level."""
    if chips == 1:
        return [sorted(nodes)]
    left = chips // 2
    n_left = min(left * cpc, max(len(nodes) - (chips - left) * cpc,
                                 round(len(nodes) * left / chips)))
    part_a, part_b = set(nodes[:n_left]), set(nodes[n_left:])
    if part_a and part_b:
        new_a, new_b = kernighan_lin_bisection(graph.subgraph(nodes), (part_a, part_b), seed=0)
        # networkx 2.8 returns the two sides in swapped order: keep the sizes we asked for
        part_a, part_b = (new_a, new_b) if len(new_a) == n_left else (new_b, new_a)
    return (_bisect(graph, sorted(part_a), left, cpc)
            + _bisect(graph, sorted(part_b), chips - left, cpc))
