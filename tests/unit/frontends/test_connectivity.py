"""Connectors against brute force and statistics; the list connector keeps weights with their pairs."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from nmcompile.frontends.modelfile import connectivity as conn
from nmcompile.frontends.modelfile import load_document


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def pairs(pre, post) -> list[tuple[int, int]]:
    return list(zip(pre.tolist(), post.tolist()))


def assert_sorted_unique(pre, post):
    as_list = pairs(pre, post)
    assert as_list == sorted(set(as_list))
    assert pre.dtype == np.int32 and post.dtype == np.int32


# -- grid ----------------------------------------------------------------------------------
def brute_grid(shape, radius, diagonal, wrap, self_ok):
    cells = list(itertools.product(*(range(s) for s in shape)))
    out = []
    for i, a in enumerate(cells):
        for j, b in enumerate(cells):
            d = [abs(x - y) for x, y in zip(a, b)]
            if wrap:
                d = [min(di, s - di) for di, s in zip(d, shape)]
            dist = max(d) if diagonal else sum(d)
            if dist <= radius and (self_ok or i != j):
                out.append((i, j))
    return out


@pytest.mark.parametrize("shape", [(6,), (3, 3), (4, 5), (2, 3, 3), (1, 4)])
@pytest.mark.parametrize("radius", [0, 1, 2, 4])
@pytest.mark.parametrize("diagonal", [True, False])
@pytest.mark.parametrize("wrap", [True, False])
def test_grid_matches_brute_force(shape, radius, diagonal, wrap):
    for self_ok in (True, False):
        pre, post = conn.grid(shape, radius, diagonal, wrap, self_ok)
        assert_sorted_unique(pre, post)
        assert pairs(pre, post) == brute_grid(shape, radius, diagonal, wrap, self_ok)
        n = int(np.prod(shape))
        bound = conn.expected_synapses("grid", {"radius": radius, "diagonal": diagonal}, n, n,
                                       self_ok, True, shape)
        assert len(pre) <= bound  # the memory check's estimate never undercounts


@pytest.mark.parametrize("diagonal, wrap, expected", [
    (True, False, 4 * 3 + 4 * 5 + 8),   # 3×3 Moore: corners 3, edges 5, centre 8
    (False, False, 4 * 2 + 4 * 3 + 4),  # 3×3 von Neumann: corners 2, edges 3, centre 4
    (True, True, 9 * 8),                # a torus: every cell has 8 neighbours
    (False, True, 9 * 4),
])
def test_grid_radius_one_counts_on_3x3(diagonal, wrap, expected):
    pre, _ = conn.grid((3, 3), 1, diagonal, wrap, self_ok=False)
    assert len(pre) == expected


def test_grid_12x12_moore_edges():
    pre, post = conn.grid((12, 12), 1, True, False, self_ok=False)
    assert len(pre) == 4 * 3 + 4 * 10 * 5 + 10 * 10 * 8
    assert (pre != post).all()


def test_grid_radius_beyond_shape_is_fast_and_has_no_self_loops():
    pre, post = conn.grid((3,), 10_000, True, True, self_ok=False)
    assert pairs(pre, post) == [(i, j) for i in range(3) for j in range(3) if i != j]


@pytest.mark.parametrize("shape", [(7,), (4, 6), (3, 3, 4)])
def test_neighbourhood_size_counts_offsets(shape):
    for radius, diagonal in itertools.product(range(8), (True, False)):
        offsets = itertools.product(*(range(-s + 1, s) for s in shape))
        norm = (lambda o: max(map(abs, o))) if diagonal else (lambda o: sum(map(abs, o)))
        assert conn.neighbourhood_size(radius, diagonal, shape) == \
            sum(1 for o in offsets if norm(o) <= radius)


# -- fixed_probability ---------------------------------------------------------------------
def test_fixed_probability_count_within_bound():
    n_pre, n_post, p = 200, 300, 0.1
    pre, post = conn.fixed_probability(n_pre, n_post, p, True, rng(1))
    mean, std = n_pre * n_post * p, np.sqrt(n_pre * n_post * p * (1 - p))
    assert abs(len(pre) - mean) < 5 * std
    assert_sorted_unique(pre, post)
    assert pre.min() >= 0 and pre.max() < n_pre and post.min() >= 0 and post.max() < n_post


def test_fixed_probability_is_uniform_over_pairs():
    n, p = 400, 0.05
    pre, post = conn.fixed_probability(n, n, p, True, rng(2))
    per_quarter = np.bincount(pre * 4 // n, minlength=4)  # a bias along the flat index shows here
    expected, std = n * n * p / 4, np.sqrt(n * n / 4 * p * (1 - p))
    assert np.all(np.abs(per_quarter - expected) < 5 * std)
    per_post = np.bincount(post * 4 // n, minlength=4)
    assert np.all(np.abs(per_post - expected) < 5 * std)


def test_fixed_probability_allow_self():
    pre, post = conn.fixed_probability(50, 50, 0.5, False, rng(3))
    assert (pre != post).all()
    pre, post = conn.fixed_probability(50, 50, 0.5, True, rng(3))
    assert (pre == post).sum() > 10  # ~25 expected


def test_fixed_probability_extremes_and_seeds():
    assert len(conn.fixed_probability(10, 10, 0.0, True, rng())[0]) == 0
    assert len(conn.fixed_probability(10, 10, 1.0, True, rng())[0]) == 100
    assert len(conn.fixed_probability(10, 10, 1.0, False, rng())[0]) == 90
    a = conn.fixed_probability(30, 30, 0.3, True, rng(5))
    b = conn.fixed_probability(30, 30, 0.3, True, rng(5))
    c = conn.fixed_probability(30, 30, 0.3, True, rng(6))
    assert pairs(*a) == pairs(*b) != pairs(*c)


# -- fixed_indegree ------------------------------------------------------------------------
@pytest.mark.parametrize("n_pre, n_post, k, self_ok", [
    (20, 30, 5, True), (20, 20, 19, False), (20, 20, 20, True), (10, 15, 0, True), (8, 8, 3, False),
])
def test_fixed_indegree_exact_and_distinct(n_pre, n_post, k, self_ok):
    pre, post = conn.fixed_indegree(n_pre, n_post, k, self_ok, rng(4))
    assert_sorted_unique(pre, post)
    assert np.array_equal(np.bincount(post, minlength=n_post), np.full(n_post, k))
    if not self_ok:
        assert (pre != post).all()
    assert len(pre) == 0 or (pre.min() >= 0 and pre.max() < n_pre)


def test_fixed_indegree_no_self_reaches_every_other_neuron():
    pre, post = conn.fixed_indegree(6, 6, 5, False, rng(0))
    assert pairs(pre, post) == sorted((i, j) for i in range(6) for j in range(6) if i != j)


# -- deterministic connectors --------------------------------------------------------------
def test_one_to_one_and_all_to_all():
    assert pairs(*conn.one_to_one(4, 4, True)) == [(i, i) for i in range(4)]
    assert pairs(*conn.one_to_one(4, 4, False)) == []
    assert pairs(*conn.all_to_all(2, 3, True)) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert pairs(*conn.all_to_all(3, 3, False)) == [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
    assert conn.expected_synapses("all_to_all", None, 3, 3, False, True) == 6
    assert conn.expected_synapses("all_to_all", None, 3, 3, False, False) == 9


def test_sort_pairs_carries_other_arrays():
    pre, post = np.array([2, 0, 1, 0]), np.array([0, 1, 1, 0])
    w, d = np.array([0.1, 0.2, 0.3, 0.4]), np.array([5, 6, 7, 8])
    sp, so, sw, sd = conn.sort_pairs(pre, post, w, d)
    assert pairs(sp, so) == [(0, 0), (0, 1), (1, 1), (2, 0)]
    assert sw.tolist() == [0.4, 0.2, 0.3, 0.1] and sd.tolist() == [8, 6, 7, 5]
    assert conn.duplicate_pair(sp, so) is None
    assert conn.duplicate_pair(np.array([0, 1, 1]), np.array([2, 3, 3])) == 2


def test_list_connector_keeps_weights_and_delays_with_their_pairs():
    doc = {"format": "nmcompile/v1", "name": "listed",
           "populations": {"a": {"model": "spike_array", "size": 3, "spikes": []},
                           "b": {"model": "lif", "size": 2, "tau_syn": 1, "tau_mem": 1, "v_th": 1}},
           "projections": [{"pre": "a", "post": "b",
                            "connect": {"list": [[2, 0], [0, 1], [1, 1], [0, 0]]},
                            "weight": [0.1, 0.2, 0.3, 0.4], "delay": [5, 6, 7, 8]}]}
    proj = load_document(doc).projections[0]
    assert pairs(proj.pre_idx, proj.post_idx) == [(0, 0), (0, 1), (1, 1), (2, 0)]
    assert proj.weight.tolist() == [0.4, 0.2, 0.3, 0.1]
    assert proj.delay.tolist() == [8, 6, 7, 5]


def test_fixed_probability_tiny_p_terminates():
    """Gaps near 2**63 once overflowed the running sum and looped forever, eating memory."""
    for p in (1e-12, 1e-300, 5e-324):
        assert len(conn.fixed_probability(3, 3, p, True, rng(0))[0]) == 0
    pre, _ = conn.fixed_probability(2_000_000, 2_000_000, 1e-9, True, rng(0))
    assert abs(len(pre) - 4000) < 5 * np.sqrt(4000)
