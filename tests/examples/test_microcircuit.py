"""The Potjans & Diesmann microcircuit example (examples/microcircuit): its structure at a tiny
scale against the published numbers, its unit conversions against a direct stepping of our
discrete LIF, and a short run on brian2 and the emulator."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from nmcompile import driver
from nmcompile.frontends.modelfile import load_document
from nmcompile.frontends.modelfile.yamlmarks import Source

from example_scripts import EXAMPLES, load_example

FOLDER = EXAMPLES / "microcircuit"


mcm = load_example("microcircuit", "microcircuit", "microcircuit.py")
example = load_example("microcircuit", "microcircuit_run", "run.py")

TINY = 0.01
STEPS = 500


def step_lif(weight: float, bias: float, steps: int, dt: float = 0.1) -> np.ndarray:
    """v of docs/design.md §2.2 without threshold, one spike of `weight` arriving at step 0."""
    keep_u, keep_v = np.exp(-dt / mcm.TAU_SYN), np.exp(-dt / mcm.TAU_M)
    u = v = 0.0
    trace = np.empty(steps)
    for t in range(steps):
        u = u * keep_u + (weight if t == 0 else 0.0)
        v = (v * keep_v + u) + bias
        trace[t] = v
    return trace


@pytest.fixture(scope="module")
def tiny():
    """The one-column document (module "microcircuit", instance "col") and its network at N
    and K scaling 0.01."""
    mc = mcm.derive(TINY, TINY, "poisson")
    builder = example.build(mc, 1, STEPS)
    return mc, builder.doc, builder.build()


def body(doc: dict) -> dict:
    return doc["modules"]["microcircuit"]


def col(name: str) -> str:
    return example.population_name("col", name)


def drawn_synapses(doc: dict) -> dict:
    """(pre, post) flattened -> n of each fixed_total_number projection of the module."""
    return {(col(p["pre"]), col(p["post"])): p["connect"]["fixed_total_number"]
            for p in body(doc)["projections"] if "fixed_total_number" in p["connect"]}


def summed_weights(net) -> dict:
    """(pre, post) -> sum of the weights of every IR projection between them (NAME, NAME-2…)."""
    totals = {}
    for proj in net.projections:
        totals[proj.pre, proj.post] = totals.get((proj.pre, proj.post), 0.0) + proj.weight.sum()
    return totals


def test_published_sizes_and_synapse_total():
    assert mcm.derive(0.1, 0.1).sizes.tolist() == [2068, 583, 2192, 548, 485, 106, 1440, 295]
    # ~2.99e8 synapses at full scale (Potjans & Diesmann 2014, NEST's example)
    assert 2.988e8 < mcm.full_synapse_counts().sum() < 2.990e8


def test_population_sizes(tiny):
    mc, _, net = tiny
    for name, full in zip(mcm.POPULATIONS, mcm.FULL_SIZES):
        assert net.populations[col(name)].size == round(full * TINY)
        assert net.populations[col(f"bg_{name}")].size == round(full * TINY)


def test_synapse_counts_are_k_times_scalings(tiny):
    """Each projection draws round(K·N_scaling·K_scaling) synapses, K from the connection
    probability; multapses merge, so a unit weight per draw makes the merged weights count
    the draws exactly."""
    mc, doc, _ = tiny
    n_pre = mcm.FULL_SIZES[None, :].astype(float)
    n_post = mcm.FULL_SIZES[:, None].astype(float)
    expected = np.round(np.log1p(-mcm.CONN_PROBS) / np.log1p(-1.0 / (n_pre * n_post))
                        * TINY * TINY).astype(int)
    drawn = drawn_synapses(doc)
    assert np.count_nonzero(mcm.CONN_PROBS) == 55  # nine of the 64 have C = 0
    assert len(drawn) == np.count_nonzero(expected)  # at this scale some round to none
    for i, post in enumerate(mcm.POPULATIONS):
        for j, pre in enumerate(mcm.POPULATIONS):
            assert drawn.get((col(pre), col(post)), 0) == expected[i, j], (pre, post)

    unit = copy.deepcopy(doc)
    for item in body(unit)["projections"]:
        item["weight"] = 1.0
    net = load_document(unit, Source("<unit weights>"), str(FOLDER))
    counted = summed_weights(net)
    for pair, n in drawn.items():
        assert counted[pair] == n, pair


def test_weights_match_the_psp_matrix(tiny):
    """Mean weight per projection is the PSP matrix (L4E→L2/3E doubled, inhibition ×−4) over
    the unit PSP, ÷ √K_scaling: summed merged weights / draws, within 6 SD of the mean."""
    mc, doc, net = tiny
    totals = summed_weights(net)
    psp = np.full((8, 8), 0.15)
    psp[:, 1::2] = -0.6
    psp[0, 2] = 0.3
    for (pre, post), n in drawn_synapses(doc).items():
        i = mcm.POPULATIONS.index(post.split(".")[-1])
        j = mcm.POPULATIONS.index(pre.split(".")[-1])
        mean = psp[i, j] / mcm.psp_peak() / np.sqrt(TINY)
        assert abs(totals[pre, post] / n - mean) <= 6 * 0.1 * abs(mean) / np.sqrt(n)


def test_psp_weight_peaks_at_015_mv():
    """w from the closed form gives a 0.15 mV peak when our discrete LIF is stepped directly."""
    w = mcm.psp_weight(0.15)
    v = step_lif(w, 0.0, 400)
    assert v.max() == pytest.approx(0.15, rel=1e-12)
    assert 1.0 < v.argmax() * 0.1 < 2.0  # iaf_psc_exp peaks at 1.58 ms for these constants
    n = np.arange(400)
    a, b = np.exp(-0.1 / mcm.TAU_SYN), np.exp(-0.1 / mcm.TAU_M)
    np.testing.assert_allclose(v, w * (b ** (n + 1) - a ** (n + 1)) / (b - a), rtol=1e-12)


def test_psp_on_brian2():
    """The same PSP through nmcompile: one spike into a non-spiking LIF, v probed."""
    from nmcompile import NetworkBuilder
    b = NetworkBuilder("psp", dt=0.1, steps=60)
    b.spike_array("spike", size=1, spikes=[[0, 0]])
    b.lif("cell", size=1, tau_syn=mcm.TAU_SYN, tau_mem=mcm.TAU_M, v_th=float("inf"))
    b.connect("spike", "cell", "one_to_one", weight=mcm.psp_weight(0.15), delay=1)
    b.probe("cell", "v")
    v = driver.run(b.build(), "brian2").traces[("cell", "v")][:, 0]
    assert v.max() == pytest.approx(0.15, rel=1e-12)


def test_dc_bias_steady_state():
    """NEST's background DC (pA) is reproduced, and as our bias v settles where iaf_psc_exp
    settles, I·tau_m/C_m; it equals the mean that the Poisson drive brings in our units."""
    full = mcm.derive(1.0, 1.0, "dc")
    np.testing.assert_allclose(full.dc_pa, [562.0, 526.9, 737.6, 667.3, 702.5, 667.3, 1018.6,
                                            737.6], atol=0.05)
    v = step_lif(0.0, float(full.bias[0]), 20000)
    assert v[-1] == pytest.approx(562.0 * mcm.TAU_M / mcm.C_M, abs=2e-3)  # 22.48 mV
    du = 1 - np.exp(-0.1 / mcm.TAU_SYN)
    poisson_mean = mcm.K_EXT * mcm.BG_RATE * 1e-4 * mcm.psp_weight(0.15) / du  # u per step
    np.testing.assert_allclose(full.bias, poisson_mean, rtol=2e-4)


def test_k_scaling_compensation():
    """K_scaling divides weights by √K and adds (1 − √K)·(the full network's mean input) as
    DC: the mean input per neuron, at the reference rates and NEST's (unrounded) indegrees, is
    that of the full network. The DC is NEST's, in pA, converted by its steady state: our PSP's
    area differs from iaf_psc_exp's by 1.1e-4, so the sums agree to 2e-4 of their gross terms."""
    full, scaled = mcm.derive(0.1, 1.0, "dc"), mcm.derive(0.1, 0.1, "dc")
    du = 1 - np.exp(-0.1 / mcm.TAU_SYN)
    dv = 1 - np.exp(-0.1 / mcm.TAU_M)

    def mean_v_terms(mc):
        indegree = mcm.full_synapse_counts() * mc.k_scaling / mcm.FULL_SIZES[:, None]
        recurrent = indegree * mc.weights * mcm.REFERENCE_RATES * 1e-4 / du / dv
        return np.column_stack([recurrent, mc.bias / dv])

    gross = np.abs(mean_v_terms(full)).sum(axis=1)
    difference = mean_v_terms(scaled).sum(axis=1) - mean_v_terms(full).sum(axis=1)
    assert np.all(np.abs(difference) <= 2e-4 * gross)
    assert np.all(np.abs(scaled.bias - full.bias) > 0.01)  # and the compensation is not nil


def test_poisson_drive_refused_beyond_one_spike_per_step():
    with pytest.raises(ValueError, match="drive 'dc'"):
        mcm.derive(0.1, 1.0, "poisson")
    assert mcm.derive(0.1, 0.4, "poisson").poisson_rates.max() * 1e-4 <= 1


def test_multicolumn_long_range():
    """Three instances: L2/3E of each onto L2/3E and L5E of the other two, the bias of those
    targets lowered by the mean those synapses bring; the module body is the lone column's."""
    mc = mcm.derive(TINY, TINY, "poisson")
    builder = example.build(mc, 3, STEPS)
    doc = builder.doc
    assert doc["instances"][0]["count"] == 3
    assert sorted((p["pre"], p["post"]) for p in doc["projections"]) == sorted(
        (f"col.{a}.L23E", f"col.{b}.{t}") for a in range(3) for b in range(3) if a != b
        for t in ("L23E", "L5E"))
    assert body(doc) == body(example.build(mc, 1, STEPS).doc)
    lowered = doc["instances"][0]["params"]
    assert set(lowered) == {"bias_L23E", "bias_L5E"}
    assert lowered["bias_L5E"] < mc.bias[mcm.POPULATIONS.index("L5E")]
    net = builder.build()
    assert net.populations["col.2.L5E"].model.bias == pytest.approx(lowered["bias_L5E"])
    assert net.populations["col.2.L4E"].model.bias == pytest.approx(
        mc.bias[mcm.POPULATIONS.index("L4E")])


@pytest.mark.parametrize("stem, columns", [("microcircuit", 1), ("multicolumn", 3)])
def test_model_files_are_the_builders_documents(stem, columns):
    """microcircuit.yaml and multicolumn.yaml are what `run.py --write-models` writes today."""
    import yaml
    written = yaml.safe_load((FOLDER / f"{stem}.yaml").read_text())
    assert written == example.build(mcm.derive(), columns, 15000).doc


@pytest.mark.parametrize("backend", ["brian2", "emulator"])
def test_runs_and_spikes(tiny, backend):
    """A short run: the recurrent populations fire after the first 20 ms (not only the neurons
    that start above threshold)."""
    mc, _, net = tiny
    result = driver.run(net, backend)
    later = sum(np.count_nonzero(result.spikes[col(p)][0] >= 200)
                for p in mcm.POPULATIONS)
    assert later > 0
    assert example.rates(result, mc, 1).shape == (1, 8)
