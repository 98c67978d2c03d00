"""Generated NIR graphs: the imported network, stepped by the float oracle, against NIR's own
equations stepped node by node in numpy (docs/design.md §7.3, §7.4).

The reference here never fuses anything: every step it pushes the previous step's spikes
(and this step's raster) through each Affine, Scale and Delay node as NIR describes them,
then integrates every neuron node with the chosen discretisation of its ODE:

    Euler:  I += ds·(-I + w_in·x)            v += dm·(v_leak - v + r·I)     (Cuba nodes)
            v += dm·(v_leak - v + r·x)       v += dt·r·x                    (LIF/LI, IF/I)
    spike: v > v_threshold, then v = v_reset;  v, I start at 0.

So it checks the import's arithmetic (decays, scales, bias folding, the u shift of a bias
into a current, v_reset as origin, timing, delays), not only that backends agree.
"""
from __future__ import annotations

from dataclasses import replace

import nir
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import oracle_run

from nmcompile.frontends.nir import load_nir
from nmcompile.ir import Probe, decay_fraction

DT = 0.5  # ms
STEPS = 60
SPIKING = ("LIF", "CubaLIF", "IF")
LEAKY = ("LIF", "CubaLIF", "LI", "CubaLI")
CUBA = ("CubaLIF", "CubaLI")
TIE = 1e-9  # a reference v this close to threshold may round either way: stop comparing there


@st.composite
def layered_graphs(draw):
    """Input -> [Delay] -> Affine -> [Scale] -> neuron layer ... ; some layers recurrent; the
    last layer may be non-spiking."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_layers = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 5)) for _ in range(n_layers + 1)]
    kinds = [draw(st.sampled_from(SPIKING)) for _ in range(n_layers - 1)]
    kinds.append(draw(st.sampled_from(SPIKING + ("LI", "CubaLI", "I"))))
    layers = []
    for k, kind in enumerate(kinds):
        n = sizes[k + 1]
        layers.append(dict(
            kind=kind, n=n,
            weight=rng.normal(0.0, 1.5, (n, sizes[k])),
            bias=rng.normal(0.0, 0.3, n) if draw(st.booleans()) else None,
            scale=rng.uniform(0.5, 2.0, n) if draw(st.booleans()) else None,
            delay=int(draw(st.integers(0, 3))),
            recurrent=rng.normal(0.0, 0.8, (n, n)) if draw(st.booleans()) else None,
            tau=rng.uniform(1.0, 10.0) * DT / 1000, tau_syn=rng.uniform(1.0, 5.0) * DT / 1000,
            r=rng.uniform(0.5, 3.0, n), v_leak=rng.normal(0.0, 0.2, n),
            # thresholds and resets on a 2^-10 grid: v_threshold - v_reset is then the same
            # float for every neuron, as the import requires of a population
            w_in=rng.uniform(0.5, 2.0, n), v_threshold=rng.integers(300, 1024) / 1024,
            v_reset=rng.integers(-100, 100, n) / 1024))
    raster = rng.random((STEPS, sizes[0])) < 0.3
    raster[0] = False  # a raster spike at step 0 is refused (it would leave at step -1)
    return sizes[0], layers, raster, draw(st.sampled_from(["euler", "exact"]))


def neuron_node(layer):
    n, kind = layer["n"], layer["kind"]
    full = lambda v: np.full(n, float(v))  # noqa: E731
    threshold = full(layer["v_threshold"]) + layer["v_reset"]  # the same above each reset
    if kind == "LIF":
        return nir.LIF(tau=full(layer["tau"]), r=layer["r"], v_leak=layer["v_leak"],
                       v_threshold=threshold, v_reset=layer["v_reset"])
    if kind == "CubaLIF":
        return nir.CubaLIF(tau_syn=full(layer["tau_syn"]), tau_mem=full(layer["tau"]),
                           r=layer["r"], v_leak=layer["v_leak"], v_threshold=threshold,
                           v_reset=layer["v_reset"], w_in=layer["w_in"])
    if kind == "IF":
        return nir.IF(r=layer["r"], v_threshold=threshold, v_reset=layer["v_reset"])
    if kind == "LI":
        return nir.LI(tau=full(layer["tau"]), r=layer["r"], v_leak=layer["v_leak"])
    if kind == "CubaLI":
        return nir.CubaLI(tau_syn=full(layer["tau_syn"]), tau_mem=full(layer["tau"]),
                          r=layer["r"], v_leak=layer["v_leak"], w_in=layer["w_in"])
    return nir.I(r=layer["r"])


def write_graph(path, n_in, layers):
    nodes = {"in": nir.Input(input_type={"input": np.array([n_in])})}
    edges = []
    prev = "in"
    for k, layer in enumerate(layers):
        src = prev
        if layer["delay"]:
            nodes[f"d{k}"] = nir.Delay(delay=np.full(
                nodes[prev].output_type["output"].prod() if prev != "in" else n_in,
                layer["delay"] * DT / 1000))
            edges.append((src, f"d{k}"))
            src = f"d{k}"
        bias = layer["bias"] if layer["bias"] is not None else np.zeros(layer["n"])
        nodes[f"fc{k}"] = nir.Affine(weight=layer["weight"], bias=bias)
        edges.append((src, f"fc{k}"))
        src = f"fc{k}"
        if layer["scale"] is not None:
            nodes[f"s{k}"] = nir.Scale(scale=layer["scale"])
            edges.append((src, f"s{k}"))
            src = f"s{k}"
        nodes[f"n{k}"] = neuron_node(layer)
        edges.append((src, f"n{k}"))
        if layer["recurrent"] is not None:
            nodes[f"rec{k}"] = nir.Linear(weight=layer["recurrent"])
            edges += [(f"n{k}", f"rec{k}"), (f"rec{k}", f"n{k}")]
        prev = f"n{k}"
    nir.write(path, nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))


def reference(layers, raster, discretization):
    """v - v_reset and spikes of every layer per step, and the first step at which a v came
    within TIE of its threshold (the comparison stops there)."""
    dt = DT / 1000
    decay = (lambda tau: dt / tau) if discretization == "euler" else \
        (lambda tau: decay_fraction(dt, tau))
    v = [0.0 - layer["v_reset"] for layer in layers]  # NIR's v starts at 0
    cur = [np.zeros(layer["n"]) for layer in layers]
    spikes = [np.zeros((STEPS + 1, layer["n"]), bool) for layer in layers]  # row t+1: step t
    out_v, out_s, tie_at = [], [], STEPS
    for t in range(STEPS):
        row_v, row_s = [], []
        for k, layer in enumerate(layers):
            d = layer["delay"]
            if k == 0:
                pre = raster[t - d].astype(float) if t - d >= 0 else np.zeros(raster.shape[1])
            else:  # the previous layer's spikes of step t - 1 - d
                pre = spikes[k - 1][t - d].astype(float) if t - d >= 0 else \
                    np.zeros(layers[k - 1]["n"])
            x = layer["weight"] @ pre + (layer["bias"] if layer["bias"] is not None else 0.0)
            if layer["scale"] is not None:
                x = layer["scale"] * x
            if layer["recurrent"] is not None:
                x = x + layer["recurrent"] @ spikes[k][t].astype(float)
            kind = layer["kind"]
            if kind in CUBA:
                ds = decay(layer["tau_syn"])
                cur[k] = cur[k] + ds * (-cur[k] + layer["w_in"] * x)
                drive = cur[k]
            else:
                drive = x
            if kind in LEAKY:
                dm = decay(layer["tau"])
                leak = layer["v_leak"] - (layer["v_reset"] if kind in SPIKING else 0.0)
                v[k] = v[k] + dm * (leak - v[k] + layer["r"] * drive)
            else:
                v[k] = v[k] + dt * layer["r"] * drive
            fired = np.zeros(layer["n"], bool)
            if kind in SPIKING:
                gap = v[k] - layer["v_threshold"]
                if np.any(np.abs(gap) <= TIE * max(1.0, layer["v_threshold"])):
                    tie_at = min(tie_at, t)
                fired = gap > 0
                v[k] = np.where(fired, 0.0, v[k])
            spikes[k][t + 1] = fired
            row_v.append(v[k].copy())
            row_s.append(fired)
        out_v.append(row_v)
        out_s.append(row_s)
    return out_v, out_s, tie_at


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(layered_graphs())
def test_imported_graph_follows_nir_equations(tmp_path_factory, case):
    n_in, layers, raster, discretization = case
    folder = tmp_path_factory.mktemp("nir")
    path, raster_path = folder / "g.nir", folder / "in.npz"
    write_graph(path, n_in, layers)
    for layer in layers:  # the reference's v is relative to v_reset, as the import's
        if layer["kind"] not in SPIKING:
            layer["v_reset"] = np.zeros(layer["n"])
    t, n = np.nonzero(raster)
    np.savez(raster_path, **{"in.spike_steps": t, "in.spike_neurons": n,
                             "steps": np.array(STEPS)})
    net = load_nir(str(path), dt=DT, discretization=discretization, input=str(raster_path))
    net = replace(net, probes=tuple(Probe(population=f"n{k}", var="v")
                                    for k in range(len(layers))))
    result = oracle_run(net, STEPS)
    ref_v, ref_s, tie_at = reference(layers, raster, discretization)
    for k, layer in enumerate(layers):
        got_v = result.traces[(f"n{k}", "v")]
        want_v = np.array([row[k] for row in ref_v])
        want_s = np.array([row[k] for row in ref_s])
        np.testing.assert_allclose(got_v[:tie_at], want_v[:tie_at], rtol=1e-9, atol=1e-12,
                                   err_msg=f"v of layer {k} ({layer['kind']})")
        spiked = np.zeros((STEPS, layer["n"]), bool)
        steps, neurons = result.spikes[f"n{k}"]
        spiked[steps, neurons] = True
        np.testing.assert_array_equal(spiked[:tie_at], want_s[:tie_at],
                                      err_msg=f"spikes of layer {k} ({layer['kind']})")
