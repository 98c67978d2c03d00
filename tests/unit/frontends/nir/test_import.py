"""The NIR import against hand-computed synapses and parameters (docs/design.md §7): every
neuron node's discretisation, every linear node fused into projections, delays, recurrence,
nesting. Graphs are built with the nir API and written with nir.write, as a user's file."""
from __future__ import annotations

import math

import nir
import numpy as np
import pytest

from nmcompile.frontends.nir import load_nir
from nmcompile.ir import decay_fraction

DT = 0.1            # ms
DT_S = DT / 1000.0  # s


def write(tmp_path, nodes, edges, name="g.nir", **graph_kw):
    path = tmp_path / name
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=edges, **graph_kw))
    return str(path)


def inp(*shape):
    return nir.Input(input_type={"input": np.array(shape)})


def out(*shape):
    return nir.Output(output_type={"output": np.array(shape)})


def lif(n, tau=2e-3, r=1.0, v_leak=0.0, v_threshold=1.0, v_reset=None):
    kw = {} if v_reset is None else {"v_reset": np.broadcast_to(v_reset, (n,)).astype(float)}
    return nir.LIF(tau=np.full(n, tau), r=np.broadcast_to(r, (n,)).astype(float),
                   v_leak=np.broadcast_to(v_leak, (n,)).astype(float),
                   v_threshold=np.full(n, v_threshold), **kw)


def synapses(proj) -> dict[tuple[int, int], float]:
    return {(int(a), int(b)): float(w) for a, b, w in zip(proj.pre_idx, proj.post_idx, proj.weight)}


def dense(proj, n_pre, n_post) -> np.ndarray:
    m = np.zeros((n_post, n_pre))
    m[proj.post_idx, proj.pre_idx] = proj.weight
    return m


# -- neuron nodes --------------------------------------------------------------------------

def test_lif_euler_parameters(tmp_path):
    r, v_leak = np.array([1.0, 2.0, 0.5]), np.array([0.0, 0.3, -0.2])
    node = lif(3, tau=4e-3, r=r, v_leak=v_leak, v_threshold=1.5, v_reset=-0.5)
    path = write(tmp_path, {"in": inp(3), "fc": nir.Linear(weight=np.eye(3)), "n": node},
                 [("in", "fc"), ("fc", "n")])
    net = load_nir(path, dt=DT)
    m = net.populations["n"].model
    dm = DT_S / 4e-3
    assert m.tau_syn == 0 and m.v_th == 2.0 and m.refractory == 0 and m.reset == "zero"
    assert abs(decay_fraction(DT, m.tau_mem) - dm) < 1e-15  # the Euler decay, to float resolution
    np.testing.assert_array_equal(m.bias, dm * (v_leak + 0.5))
    assert m.v_init == 0.5  # NIR's v starts at 0: 0.5 above the reset origin
    np.testing.assert_array_equal(net.projections[0].weight, r * dm)


def test_lif_exact_parameters(tmp_path):
    path = write(tmp_path, {"in": inp(1), "fc": nir.Linear(weight=np.array([[2.0]])),
                            "n": lif(1, tau=5e-3, v_leak=1.0)}, [("in", "fc"), ("fc", "n")])
    net = load_nir(path, dt=DT, discretization="exact")
    m = net.populations["n"].model
    dm = decay_fraction(DT, 5.0)
    assert m.tau_mem == 5.0 and m.bias == dm * 1.0
    assert net.projections[0].weight[0] == 2.0 * dm


def test_cuba_lif_with_bias(tmp_path):
    """CubaLIF: u carries r·dm·I; an Affine bias b is a constant input: bias += U, u_init = -U
    with U = ((w_in·r)·dm)·b."""
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    b = np.array([0.2, -0.1])
    node = nir.CubaLIF(tau_syn=np.full(2, 1e-3), tau_mem=np.full(2, 5e-3), r=np.array([2.0, 1.0]),
                       v_leak=np.array([0.1, 0.0]), v_threshold=np.full(2, 1.0),
                       w_in=np.array([1.0, 3.0]))
    path = write(tmp_path, {"in": inp(2), "aff": nir.Affine(weight=w, bias=b), "n": node},
                 [("in", "aff"), ("aff", "n")])
    m = load_nir(path, dt=DT).populations["n"].model
    proj = load_nir(path, dt=DT).projections[0]
    ds, dm = DT_S / 1e-3, DT_S / 5e-3
    r, w_in = np.array([2.0, 1.0]), np.array([1.0, 3.0])
    scale = ((w_in * ds) * r) * dm
    steady = ((w_in * r) * dm) * b
    assert abs(decay_fraction(DT, m.tau_syn) - ds) < 1e-15
    np.testing.assert_array_equal(m.bias, dm * np.array([0.1, 0.0]) + steady)
    np.testing.assert_array_equal(m.u_init, 0.0 - steady)
    assert synapses(proj) == {(0, 0): 1.0 * scale[0], (1, 0): -2.0 * scale[0],
                              (0, 1): 0.5 * scale[1]}  # the zero weight is no synapse


def test_cuba_lif_bias_is_the_constant_input(tmp_path):
    """The u-shift for a constant input gives the trajectory of u and v that stepping NIR's
    Euler equations with the constant input gives."""
    node = nir.CubaLI(tau_syn=np.array([2e-3]), tau_mem=np.array([5e-3]), r=np.array([1.0]),
                      v_leak=np.array([0.0]), w_in=np.array([1.0]))
    path = write(tmp_path, {"in": inp(1), "aff": nir.Affine(weight=np.array([[0.0]]),
                                                            bias=np.array([3.0])), "n": node},
                 [("in", "aff"), ("aff", "n")])
    net = load_nir(path, dt=DT, steps=200)
    from nmcompile import driver
    from nmcompile.ir import Probe
    from dataclasses import replace
    net = replace(net, probes=(Probe(population="n", var="v"),))
    v = driver.run(net, "brian2").traces[("n", "v")][:, 0]
    i_syn, v_ref, expected = 0.0, 0.0, []
    ds, dm = DT_S / 2e-3, DT_S / 5e-3
    for _ in range(200):  # NIR's equations, Euler, in our order: I first, then v with new I
        i_syn = i_syn + ds * (-i_syn + 3.0)
        v_ref = v_ref + dm * (0.0 - v_ref + i_syn)
        expected.append(v_ref)
    np.testing.assert_allclose(v, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["IF", "I"])
def test_if_and_integrator(tmp_path, kind):
    r = np.array([2.0, 4.0])
    node = nir.IF(r=r, v_threshold=np.full(2, 0.5)) if kind == "IF" else nir.I(r=r)
    path = write(tmp_path, {"in": inp(2), "fc": nir.Linear(weight=np.eye(2)), "n": node},
                 [("in", "fc"), ("fc", "n")])
    net = load_nir(path, dt=DT)
    m = net.populations["n"].model
    assert m.tau_syn == 0 and math.isinf(m.tau_mem)
    assert m.v_th == (0.5 if kind == "IF" else math.inf)
    np.testing.assert_array_equal(net.projections[0].weight, r * DT_S)


def test_leaky_integrator(tmp_path):
    node = nir.LI(tau=np.full(2, 1e-3), r=np.ones(2), v_leak=np.array([1.0, 2.0]))
    path = write(tmp_path, {"in": inp(2), "fc": nir.Linear(weight=np.eye(2)), "n": node},
                 [("in", "fc"), ("fc", "n")])
    m = load_nir(path, dt=DT).populations["n"].model
    assert math.isinf(m.v_th) and m.tau_syn == 0
    np.testing.assert_array_equal(m.bias, (DT_S / 1e-3) * np.array([1.0, 2.0]))


# -- linear chains -------------------------------------------------------------------------

def test_chain_of_linear_nodes_is_one_projection(tmp_path):
    rng = np.random.default_rng(1)
    w1, b1 = rng.normal(size=(4, 3)), rng.normal(size=4)
    scale = rng.normal(size=4)
    w2 = rng.normal(size=(2, 4))
    nodes = {"in": inp(3), "a": nir.Affine(weight=w1, bias=b1), "s": nir.Scale(scale=scale),
             "l": nir.Linear(weight=w2), "n": lif(2, tau=1e-3)}
    path = write(tmp_path, nodes, [("in", "a"), ("a", "s"), ("s", "l"), ("l", "n")])
    net = load_nir(path, dt=DT)
    assert len(net.projections) == 1
    dm = DT_S / 1e-3
    fused = w2 @ (scale[:, None] * w1)
    np.testing.assert_allclose(dense(net.projections[0], 3, 2), fused * dm, rtol=1e-12)
    np.testing.assert_allclose(net.populations["n"].model.bias, (w2 @ (scale * b1)) * dm,
                               rtol=1e-12)


def test_conv_pool_flatten_affine(tmp_path):
    """Input (1,4,4) -> Conv2d 1->2 3x3 pad 1 -> IF -> SumPool 2 -> Flatten -> Affine -> LIF:
    the conv synapses as cross-correlation by hand; pool and flatten fused into the Affine."""
    rng = np.random.default_rng(2)
    k = rng.normal(size=(2, 1, 3, 3))
    conv = nir.Conv2d(input_shape=(4, 4), weight=k, stride=1, padding=1, dilation=1, groups=1,
                      bias=np.array([0.5, -0.5]))
    if1 = nir.IF(r=np.ones((2, 4, 4)), v_threshold=np.ones((2, 4, 4)))
    pool = nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                         padding=np.array([0, 0]))
    flat = nir.Flatten(input_type={"input": np.array([2, 2, 2])}, start_dim=0)
    w = rng.normal(size=(3, 8))
    nodes = {"in": inp(1, 4, 4), "conv": conv, "if1": if1, "pool": pool, "flat": flat,
             "fc": nir.Affine(weight=w, bias=np.zeros(3)), "out": lif(3, tau=1e-3)}
    edges = [("in", "conv"), ("conv", "if1"), ("if1", "pool"), ("pool", "flat"),
             ("flat", "fc"), ("fc", "out")]
    net = load_nir(write(tmp_path, nodes, edges), dt=DT)
    assert net.populations["if1"].shape == (2, 4, 4)
    conv_proj = next(p for p in net.projections if p.post == "if1")
    expected = {}
    for c in range(2):
        for y in range(4):
            for x in range(4):
                for dy in range(3):
                    for dx in range(3):
                        yy, xx = y + dy - 1, x + dx - 1
                        if 0 <= yy < 4 and 0 <= xx < 4 and k[c, 0, dy, dx] != 0:
                            expected[(yy * 4 + xx, c * 16 + y * 4 + x)] = k[c, 0, dy, dx] * DT_S
    got = synapses(conv_proj)
    assert got.keys() == expected.keys()
    assert all(got[key] == pytest.approx(val, rel=1e-12) for key, val in expected.items())
    bias = net.populations["if1"].model.bias
    np.testing.assert_allclose(bias, np.repeat([0.5 * DT_S, -0.5 * DT_S], 16), rtol=1e-12)
    pooled = next(p for p in net.projections if p.post == "out")
    pool_m = np.zeros((8, 32))
    for c in range(2):
        for y in range(2):
            for x in range(2):
                for dy in range(2):
                    for dx in range(2):
                        pool_m[c * 4 + y * 2 + x, c * 16 + (2 * y + dy) * 4 + 2 * x + dx] = 1
    np.testing.assert_allclose(dense(pooled, 32, 3), (w @ pool_m) * (DT_S / 1e-3), rtol=1e-12)


def test_conv1d_and_avgpool(tmp_path):
    k = np.array([[[1.0, 2.0, 3.0]]])
    conv = nir.Conv1d(input_shape=5, weight=k, stride=2, padding=0, dilation=1, groups=1,
                      bias=np.zeros(1))
    nodes = {"in": inp(1, 5), "conv": conv, "n": nir.IF(r=np.ones((1, 2)),
                                                          v_threshold=np.ones((1, 2)))}
    net = load_nir(write(tmp_path, nodes, [("in", "conv"), ("conv", "n")]), dt=DT)
    # output 0 reads inputs 0,1,2; output 1 reads 2,3,4 (stride 2)
    assert synapses(net.projections[0]) == pytest.approx(
        {(0, 0): 1 * DT_S, (1, 0): 2 * DT_S, (2, 0): 3 * DT_S,
         (2, 1): 1 * DT_S, (3, 1): 2 * DT_S, (4, 1): 3 * DT_S})
    avg = nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                        padding=np.array([0, 0]))
    nodes = {"in": inp(1, 2, 2), "avg": avg, "n": nir.IF(r=np.ones((1, 1, 1)),
                                                          v_threshold=np.ones((1, 1, 1)))}
    net = load_nir(write(tmp_path, nodes, [("in", "avg"), ("avg", "n")], name="avg.nir"), dt=DT)
    assert synapses(net.projections[0]) == pytest.approx({(i, 0): 0.25 * DT_S for i in range(4)})


# -- graph structure -----------------------------------------------------------------------

def test_recurrence_takes_one_step(tmp_path):
    w = np.array([[0.0, 1.0], [1.0, 0.0]])
    nodes = {"in": inp(2), "fc": nir.Linear(weight=np.eye(2)), "n": lif(2, tau=1e-3),
             "rec": nir.Linear(weight=w), "o": out(2)}
    edges = [("in", "fc"), ("fc", "n"), ("n", "rec"), ("rec", "n"), ("n", "o")]
    net = load_nir(write(tmp_path, nodes, edges), dt=DT)
    rec = next(p for p in net.projections if p.pre == "n")
    assert rec.post == "n" and set(rec.delay) == {1}
    assert synapses(rec) == pytest.approx({(1, 0): DT_S / 1e-3, (0, 1): DT_S / 1e-3})
    assert net.has_cycles() and net.metadata["outputs"] == {"o": ["n"]}


def test_delays_elementwise_and_split(tmp_path):
    """A Delay adds whole steps per element; the same pair reached with two delays goes to a
    second projection."""
    delay = nir.Delay(delay=np.array([0.0, 2e-4, 3e-4]))  # 0, 2, 3 steps of 0.1 ms
    nodes = {"in": inp(3), "d": delay, "a": nir.Linear(weight=np.ones((1, 3))),
             "b": nir.Linear(weight=np.full((1, 3), 2.0)), "n": nir.IF(r=np.ones(1) / DT_S,
                                                                      v_threshold=np.ones(1))}
    edges = [("in", "d"), ("d", "a"), ("a", "n"), ("in", "b"), ("b", "n")]
    net = load_nir(write(tmp_path, nodes, edges), dt=DT)
    by_name = {p.name: p for p in net.projections}
    assert sorted(by_name) == ["in_to_n", "in_to_n-2"]
    first, second = by_name["in_to_n"], by_name["in_to_n-2"]
    # input 0 reaches n by both paths with delay 1: summed (1 + 2); inputs 1 and 2 by path b
    # at delay 1 (weight 2) and by path a at 1 + 2 and 1 + 3 steps (weight 1), a second pair
    assert dict(zip(first.pre_idx.tolist(), zip(first.weight, first.delay))) == {
        0: (pytest.approx(3.0), 1), 1: (pytest.approx(2.0), 1), 2: (pytest.approx(2.0), 1)}
    assert dict(zip(second.pre_idx.tolist(), zip(second.weight, second.delay))) == {
        1: (pytest.approx(1.0), 3), 2: (pytest.approx(1.0), 4)}


def test_nested_graph_dotted_names(tmp_path):
    inner = nir.NIRGraph(nodes={"i": inp(2), "fc": nir.Linear(weight=np.eye(2)),
                                "lif": lif(2, tau=1e-3), "o": out(2)},
                         edges=[("i", "fc"), ("fc", "lif"), ("lif", "o")])
    nodes = {"in": inp(2), "block": inner, "fc2": nir.Linear(weight=np.ones((1, 2))),
             "n": lif(1, tau=1e-3), "out": out(1)}
    edges = [("in", "block"), ("block", "fc2"), ("fc2", "n"), ("n", "out")]
    net = load_nir(write(tmp_path, nodes, edges), dt=DT)
    assert set(net.populations) == {"in", "block.lif", "n"}
    assert {(p.pre, p.post) for p in net.projections} == {("in", "block.lif"),
                                                          ("block.lif", "n")}


def test_paths_that_meet_sum(tmp_path):
    nodes = {"in": inp(2), "a": nir.Linear(weight=np.eye(2)),
             "b": nir.Linear(weight=np.array([[0.0, 1.0], [1.0, 0.0]])), "n": lif(2, tau=1e-3)}
    edges = [("in", "a"), ("in", "b"), ("a", "n"), ("b", "n")]
    net = load_nir(write(tmp_path, nodes, edges), dt=DT)
    assert len(net.projections) == 1
    assert synapses(net.projections[0]) == pytest.approx(
        {(0, 0): 0.1, (1, 1): 0.1, (0, 1): 0.1, (1, 0): 0.1})


def test_neuron_to_neuron_edge_is_identity(tmp_path):
    nodes = {"in": inp(2), "fc": nir.Linear(weight=np.eye(2)), "a": lif(2, tau=1e-3),
             "b": lif(2, tau=1e-3, r=2.0)}
    net = load_nir(write(tmp_path, nodes, [("in", "fc"), ("fc", "a"), ("a", "b")]), dt=DT)
    ab = next(p for p in net.projections if p.pre == "a")
    assert synapses(ab) == pytest.approx({(0, 0): 0.2, (1, 1): 0.2})


def test_input_timing_and_steps(tmp_path):
    nodes = {"in": inp(2), "fc": nir.Linear(weight=np.eye(2)), "n": lif(2)}
    path = write(tmp_path, nodes, [("in", "fc"), ("fc", "n")])
    raster = tmp_path / "r.npz"
    np.savez(raster, **{"in.spike_steps": np.array([5, 1]), "in.spike_neurons": np.array([1, 0])})
    net = load_nir(path, dt=DT, input=str(raster))
    src = net.populations["in"].model
    assert src.steps.tolist() == [0, 4] and src.neurons.tolist() == [0, 1]  # emitted a step early
    assert net.steps == 6  # the last input step reaches the first layer at step 5
    assert load_nir(path, dt=DT, input=str(raster), steps=50).steps == 50


def test_a_fusion_that_cannot_fit_is_refused_before_it_is_built(tmp_path, monkeypatch):
    """The fused matrix's size is bounded before scipy allocates it (here against a machine
    pretending to have 1 KiB left: b·a, bounded by 50 x 50 x 50 entries of 40 bytes, does
    not fit; a alone, the first node after the population, is its own matrix)."""
    import nmcompile.memory
    from nmcompile.diagnostics import InputError
    nodes = {"in": inp(50), "a": nir.Linear(weight=np.ones((50, 50))),
             "b": nir.Linear(weight=np.ones((50, 50))), "n": lif(50)}
    path = write(tmp_path, nodes, [("in", "a"), ("a", "b"), ("b", "n")])
    monkeypatch.setattr(nmcompile.memory, "available_memory", lambda: 1024)
    with pytest.raises(InputError, match=r"node 'b' \(Linear\): fusing it with the nodes before "
                                         r"it may take up to 5 MiB"):
        load_nir(path, dt=DT)


def test_float32_delays_as_pytorch_exporters_write_them(tmp_path):
    """3 ms in float32 is 0.003000000026 s: a whole number of steps to float32's precision."""
    nodes = {"in": inp(2), "d": nir.Delay(delay=np.full(2, 0.003, np.float32)),
             "fc": nir.Linear(weight=np.eye(2, dtype=np.float32)), "n": lif(2)}
    net = load_nir(write(tmp_path, nodes, [("in", "d"), ("d", "fc"), ("fc", "n")]), dt=1.0)
    assert set(net.projections[0].delay) == {4}  # 1 hop + 3 steps


def test_delays_that_add_up_past_the_longest_are_refused(tmp_path):
    from nmcompile.diagnostics import InputError
    nodes = {"in": inp(1), "d1": nir.Delay(delay=np.array([40.0])),
             "d2": nir.Delay(delay=np.array([40.0])), "fc": nir.Linear(weight=np.eye(1)),
             "n": lif(1)}
    path = write(tmp_path, nodes, [("in", "d1"), ("d1", "d2"), ("d2", "fc"), ("fc", "n")])
    with pytest.raises(InputError, match=r"node 'n' \(LIF\): a path reaches it after 80001 steps"):
        load_nir(path, dt=1.0)


def test_a_nested_graph_entered_past_its_input_node(tmp_path):
    """A recurrent layer exported as a subgraph whose edges go straight to 'sub.lif': its own
    Input node, fed by nothing, carries nothing."""
    sub = nir.NIRGraph(nodes={"input": inp(2), "lif": lif(2), "w_rec": nir.Linear(
        weight=np.array([[0.0, 1.0], [1.0, 0.0]])), "output": out(2)},
        edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
        type_check=False)
    nodes = {"in": inp(2), "0": nir.Linear(weight=np.eye(2)), "1": sub, "o": out(2)}
    net = load_nir(write(tmp_path, nodes, [("in", "0"), ("0", "1.lif"), ("1.lif", "o")],
                         type_check=False), dt=DT)
    assert {(p.pre, p.post) for p in net.projections} == {("in", "1.lif"), ("1.lif", "1.lif")}


def test_a_flatten_that_declares_a_batch_dimension(tmp_path):
    flat = nir.Flatten(input_type={"input": np.array([1, 2, 2, 2])}, start_dim=1)
    nodes = {"in": inp(2, 2, 2), "flat": flat, "fc": nir.Linear(weight=np.ones((1, 8))),
             "n": lif(1)}
    net = load_nir(write(tmp_path, nodes, [("in", "flat"), ("flat", "fc"), ("fc", "n")],
                         type_check=False), dt=DT)
    assert net.projections[0].n_synapses == 8
