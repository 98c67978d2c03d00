"""The connectors and distributions of published models (issue 14): fixed_total_number with
multapses, fixed_outdegree, normal weights that keep their sign, normal delays in ms.
Statistics use fixed seeds, so every bound below is checked against the same draws each run."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from nmcompile import driver
from nmcompile.diagnostics import InputError
from nmcompile.frontends.modelfile import connectivity as conn
from nmcompile.frontends.modelfile import load_document, load_model
from nmcompile.frontends.savemodel import save_model
from nmcompile.ir import stable_rng

LIF = {"model": "lif", "tau_syn": 0.5, "tau_mem": 10.0, "v_th": 1.0}


def doc(*projections, size=60) -> dict:
    """dt 0.1 ms and seed 5, as the expected draws below assume."""
    return {"format": "nmcompile/v1", "name": "published", "dt": 0.1, "steps": 200, "seed": 5,
            "populations": {"stim": {"model": "poisson", "size": 40, "rate": 200},
                            "e": {**LIF, "size": size}},
            "projections": list(projections)}


def proj(connect, weight=1.0, delay=1, **more) -> dict:
    return {"name": "p", "pre": "e", "post": "e", "connect": connect, "weight": weight,
            "delay": delay, **more}


def named(net, prefix: str = "p"):
    return [p for p in net.projections if p.name == prefix or p.name.startswith(prefix + "-")]


# -- fixed_total_number --------------------------------------------------------------------
def test_total_number_draws_exactly_n_merging_into_extra_projections():
    n = 3000  # 60·59 = 3,540 allowed pairs: many pairs are drawn more than once
    net = load_document(doc(proj({"fixed_total_number": n}, weight=1.0,
                                 delay={"uniform_int": [1, 3]}, allow_self=False)))
    projs = named(net)
    assert [p.name for p in projs] == ["p"] + [f"p-{r}" for r in range(2, len(projs) + 1)]
    assert len(projs) >= 2  # some pair got two delays
    # weight 1 per drawn synapse: a merged synapse's weight counts the draws it stands for
    assert sum(p.weight.sum() for p in projs) == n
    seen = set()
    for p in projs:
        pairs = list(zip(p.pre_idx.tolist(), p.post_idx.tolist()))
        assert pairs == sorted(set(pairs))  # sorted, no pair twice within one projection
        assert all(a != b for a, b in pairs)  # allow_self false
        triples = set(zip(pairs, p.delay.tolist()))
        assert not triples & seen  # a (pair, delay) is one synapse, in one projection
        seen |= triples
    first = {pair: d for pair, d in zip(zip(projs[0].pre_idx.tolist(), projs[0].post_idx.tolist()),
                                        projs[0].delay.tolist())}
    for p in projs[1:]:  # ranked by delay: each extra projection holds a longer delay
        for a, b, d in zip(p.pre_idx.tolist(), p.post_idx.tolist(), p.delay.tolist()):
            assert first[(a, b)] < d


def test_merged_weight_is_the_sum_of_the_drawn_weights():
    n, mean, std = 2000, 0.5, 0.2
    net = load_document(doc(proj({"fixed_total_number": n}, weight={"normal": [mean, std]})))
    (p,) = named(net)  # one delay: every repeat of a pair merges
    drawn = stable_rng(5, "projection", "p", "weight").normal(mean, std, n)
    assert p.n_synapses < n
    assert np.isclose(p.weight.sum(), drawn.sum(), rtol=1e-12, atol=0)


def test_merge_multapses_sums_equal_delays_and_ranks_the_rest():
    pre = np.array([0, 0, 0, 0, 1], np.int32)
    post = np.array([1, 1, 1, 1, 0], np.int32)
    weight = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    delay = np.array([3, 1, 3, 2, 1], np.int32)
    pre, post, weight, delay, rank = conn.merge_multapses(pre, post, weight, delay)
    assert pre.tolist() == [0, 0, 0, 1] and post.tolist() == [1, 1, 1, 0]
    assert delay.tolist() == [1, 2, 3, 1]
    assert weight.tolist() == [2.0, 8.0, 5.0, 16.0]
    assert rank.tolist() == [0, 1, 2, 0]


def test_merge_multapses_against_brute_force():
    rng = np.random.default_rng(3)
    pre, post = conn.fixed_total_number(6, 5, 400, True, rng)
    weight, delay = rng.normal(size=400), rng.integers(1, 5, 400).astype(np.int32)
    expected: dict = {}
    for key in zip(pre.tolist(), post.tolist(), delay.tolist(), weight.tolist()):
        expected.setdefault(key[:3], []).append(key[3])
    m_pre, m_post, m_weight, m_delay, rank = conn.merge_multapses(pre, post, weight, delay)
    got = list(zip(m_pre.tolist(), m_post.tolist(), m_delay.tolist()))
    assert got == sorted(expected)
    assert m_weight.tolist() == [sum(expected[k]) for k in got]  # summed in synapse order
    assert rank.tolist() == [sum(1 for o in got[:i] if o[:2] == k[:2]) for i, k in enumerate(got)]


def test_total_number_multapse_fraction_is_the_occupancy_expectation():
    n_pre, n_post, n = 100, 100, 5000
    pre, post = conn.fixed_total_number(n_pre, n_post, n, True, np.random.default_rng(1))
    assert pre.size == n and pre.dtype == np.int32
    assert np.all(np.diff(pre.astype(np.int64) * n_post + post) >= 0)  # sorted by (pre, post)
    pairs = n_pre * n_post
    distinct = np.unique(pre.astype(np.int64) * n_post + post).size
    expected = pairs * (1 - (1 - 1 / pairs) ** n)  # ≈ 3,935: 21 % of the draws repeat a pair
    sd = np.sqrt(pairs * np.exp(-n / pairs) * (1 - (1 + n / pairs) * np.exp(-n / pairs)))
    assert abs(distinct - expected) < 4 * sd
    for idx, size in ((pre, n_pre), (post, n_post)):  # uniform over pre and over post
        counts = np.bincount(idx, minlength=size)
        assert abs(counts - n / size).max() < 5 * np.sqrt(n / size)


def test_total_number_without_self_draws_every_other_pair_uniformly():
    pre, post = conn.fixed_total_number(3, 3, 60_000, False, np.random.default_rng(2))
    assert not np.any(pre == post)
    counts = np.bincount(pre * 3 + post, minlength=9)[[1, 2, 3, 5, 6, 7]]
    assert abs(counts - 10_000).max() < 5 * np.sqrt(10_000)


def test_total_number_zero_is_one_empty_projection():
    net = load_document(doc(proj({"fixed_total_number": 0})))
    (p,) = named(net)
    assert p.n_synapses == 0


def test_total_number_memory_estimate_is_n():
    assert conn.expected_synapses("fixed_total_number", 1234, 10, 10, False, True) == 1234
    assert conn.expected_synapses("fixed_outdegree", 7, 10, 20, True, False) == 70


# -- fixed_outdegree -----------------------------------------------------------------------
@pytest.mark.parametrize("self_ok, k", [(True, 60), (True, 13), (False, 59), (False, 13)])
def test_outdegree_gives_k_distinct_posts_per_pre(self_ok, k):
    net = load_document(doc(proj({"fixed_outdegree": k}, allow_self=self_ok)))
    (p,) = named(net)
    assert np.bincount(p.pre_idx, minlength=60).tolist() == [k] * 60
    pairs = list(zip(p.pre_idx.tolist(), p.post_idx.tolist()))
    assert pairs == sorted(set(pairs))
    assert self_ok or not np.any(p.pre_idx == p.post_idx)


def test_outdegree_between_populations_of_other_sizes():
    pre, post = conn.fixed_outdegree(40, 7, 3, True, np.random.default_rng(0))
    assert np.bincount(pre).tolist() == [3] * 40 and post.max() < 7
    assert pre.dtype == np.int32 and post.dtype == np.int32


# -- weights that keep their sign ----------------------------------------------------------
@pytest.mark.parametrize("mean", [0.05, -0.05])
def test_keep_sign_never_gives_a_wrong_sign_and_keeps_right_draws(mean):
    std = 0.2
    net = load_document(doc(proj("all_to_all", weight={"normal": [mean, std], "keep_sign": True}),
                            size=100))
    w = named(net)[0].weight
    assert np.all(np.sign(w) == np.sign(mean))
    first = stable_rng(5, "projection", "p", "weight").normal(mean, std, w.size)
    right = np.sign(first) == np.sign(mean)
    assert 0 < right.mean() < 1
    assert np.array_equal(w[right], first[right])  # only the wrong-signed ones are redrawn


def test_keep_sign_false_is_the_plain_normal():
    plain = load_document(doc(proj("all_to_all", weight={"normal": [0.0, 1.0]})))
    same = load_document(doc(proj("all_to_all", weight={"normal": [0.0, 1.0],
                                                        "keep_sign": False})))
    assert plain == same and np.any(named(plain)[0].weight < 0)


# -- delays normal in ms -------------------------------------------------------------------
def test_normal_ms_delays_lie_within_min_max_rounded_to_steps():
    delay = {"normal_ms": [1.5, 0.75], "min_ms": 0.5, "max_ms": 2.0}
    d = named(load_document(doc(proj("all_to_all", delay=delay))))[0].delay
    assert d.min() >= 5 and d.max() <= 20  # dt 0.1 ms
    # redrawn, not clipped: clipping would pile a quarter of the draws (those above 2 ms) at
    # 20 steps, while the redrawn ones spread like the rest
    assert np.mean(d == 20) < 0.05 and np.mean(d == 5) < 0.05
    ms = stable_rng(5, "projection", "p", "delay").normal(1.5, 0.75, d.size)
    inside = (ms >= 0.5) & (ms <= 2.0)
    assert np.array_equal(d[inside], np.rint(ms[inside] / 0.1).astype(np.int32))


def test_normal_ms_defaults_keep_delays_at_least_one_step():
    d = named(load_document(doc(proj("all_to_all", delay={"normal_ms": [0.1, 0.5]}))))[0].delay
    assert d.min() == 1 and d.max() <= 65535
    exact = load_document(doc(proj("all_to_all", delay={"normal_ms": [0.26, 0]})))
    assert set(named(exact)[0].delay.tolist()) == {3}  # 2.6 steps round to 3


# -- errors --------------------------------------------------------------------------------
ERRORS = [
    (proj({"fixed_outdegree": 61}), "connect.fixed_outdegree", "must be an integer ≤ 60, got 61"),
    (proj({"fixed_total_number": -1}), "connect.fixed_total_number", "must be an integer ≥ 0"),
    (proj({"fixed_total_number": 2.5}), "connect.fixed_total_number", "must be an integer ≥ 0"),
    (proj("all_to_all", weight={"uniform": [0, 1], "keep_sign": True}), "weight.keep_sign",
     "only with normal"),
    (proj("all_to_all", weight={"normal": [1, 1], "keep_sign": "yes"}), "weight.keep_sign",
     "must be true or false, got 'yes'"),
    (proj("all_to_all", weight={"keep_sign": True}), "weight",
     "give exactly one of uniform, normal"),
    (proj("all_to_all", delay={"normal_ms": [1, 1], "uniform_int": [1, 2]}), "delay",
     "give exactly one of uniform_int, normal_ms"),
    (proj("all_to_all", delay={"min_ms": 1}), "delay", "give exactly one of uniform_int, "
                                                       "normal_ms"),
    (proj("all_to_all", delay={"uniform_int": [1, 2], "max_ms": 3}), "delay.max_ms",
     "only with normal_ms"),
    (proj("all_to_all", delay={"normal_ms": [1, 1], "max_ms": "x"}), "delay.max_ms",
     "must be a finite number, got 'x'"),
    (proj("all_to_all", delay={"normal_ms": [1e300, 1]}), "delay.normal_ms",
     "[1e+300, 1] draws only a share 0 within [min_ms, max_ms] = [0.1, 6553.5] ms"),
    (proj("all_to_all", delay={"normal_ms": [1, 0], "min_ms": 2}), "delay.normal_ms",
     "[1, 0] draws only a share 0 within [min_ms, max_ms] = [2, 6553.5] ms"),
]


@pytest.mark.parametrize("spec, path, message", ERRORS,
                         ids=[e[1] + ":" + e[2][:24] for e in ERRORS])
def test_errors_are_located(spec, path, message):
    with pytest.raises(InputError) as info:
        load_document(doc(spec))
    assert str(info.value).startswith(f"<document>: projections[0].{path}: {message}")


def test_a_default_name_can_be_reserved_for_multapses_too():
    """A projection e -> e-2 defaults to the name e_to_e-2, which e_to_e's draws may need."""
    d = doc({"pre": "e", "post": "e", "connect": {"fixed_total_number": 5}, "weight": 1},
            {"pre": "e", "post": "e-2", "connect": "one_to_one", "weight": 1})
    d["populations"]["e-2"] = {**LIF, "size": 60}
    with pytest.raises(InputError, match=r"^<document>: projections\[1\]: name 'e_to_e-2' is "
                                         r"reserved for the multapses of fixed_total_number "
                                         r"projection 'e_to_e' \(projections\[0\]\)"):
        load_document(d)
    for free in ("e_to_e-1", "e_to_e-02", "e_to_e-x"):  # never a multapse projection's name
        d["projections"][1]["name"] = free
        load_document(d)


# -- determinism, saving, running -------------------------------------------------------------
def all_four() -> dict:
    return doc(
        {"name": "ee", "pre": "e", "post": "e", "connect": {"fixed_total_number": 2500},
         "weight": {"normal": [0.2, 0.4], "keep_sign": True},
         "delay": {"normal_ms": [1.5, 0.75]}, "allow_self": False},
        {"name": "ie", "pre": "e", "post": "e", "connect": {"fixed_outdegree": 6},
         "weight": {"normal": [-0.3, 0.3], "keep_sign": True},
         "delay": {"normal_ms": [0.8, 0.4], "max_ms": 1.2}},
        {"name": "in", "pre": "stim", "post": "e", "connect": {"fixed_outdegree": 5},
         "weight": 0.6})


def test_same_seed_same_network_other_seed_other_draws():
    first, again = load_document(all_four()), load_document(copy.deepcopy(all_four()))
    assert first == again
    other = all_four()
    other["seed"] = 6
    assert load_document(other).projections != first.projections


def test_all_four_load_save_and_reload_equal(tmp_path):
    net = load_document(all_four())
    names = [p.name for p in net.projections]
    assert names[:2] == ["ee", "ee-2"] and names[-2:] == ["ie", "in"]
    path = tmp_path / "published.yaml"
    save_model(net, str(path))
    assert load_model(str(path)) == net


def test_runs_on_the_emulator_and_brian2():
    """A smoke test: several projections between one pair of populations (the multapses) run
    on both, to about the same activity."""
    net = load_document(all_four())
    counts = [driver.run(net, backend, steps=100).neuron_spike_count()
              for backend in ("emulator", "brian2")]
    assert counts[0] > 0 and abs(counts[0] - counts[1]) <= 0.01 * counts[0]
