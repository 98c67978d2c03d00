"""Neuron-model parameters read from the model's PARAMS table (DESIGN §2.5): the LIF variants
(tau_syn 0, v_th .inf, reset, per-neuron bias / v_init / u_init), their draws, their errors,
and the generic reader on a model the loader has never heard of."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from nmcompile.diagnostics import InputError
from nmcompile.frontends.modelfile import load_document
from nmcompile.frontends.modelfile.loader import POP_KEYS
from nmcompile.frontends.modelfile.neuronparams import neuron_model
from nmcompile.frontends.modelfile.yamlmarks import Source, parse
from nmcompile.ir import LIF, Param, stable_rng


def doc_with(**exc) -> dict:
    """A small model whose lif population `exc` (size 4) gets the given keys."""
    spec = {"model": "lif", "size": 4, "tau_syn": 4.0, "tau_mem": 20.0, "v_th": 1.0, **exc}
    return {"format": "nmcompile/v1", "name": "variants", "seed": 9,
            "populations": {"stim": {"model": "poisson", "size": 4, "rate": 10}, "exc": spec},
            "projections": [{"pre": "stim", "post": "exc", "connect": "one_to_one",
                             "weight": 0.5}]}


def exc_model(**exc) -> LIF:
    return load_document(doc_with(**exc)).populations["exc"].model


def test_pop_keys_follow_the_model_params():
    assert POP_KEYS["lif"] == ["model", "size", "shape"] + [p.name for p in LIF.PARAMS]
    assert {"reset", "v_init", "u_init"} <= set(POP_KEYS["lif"])
    assert list(POP_KEYS) == ["lif", "izhikevich", "adaptive_lif", "poisson",
                              "spike_array"]  # the order messages list


def test_a_v1_file_without_the_new_keys_means_what_it_meant():
    model = exc_model()
    assert model == LIF(tau_syn=4.0, tau_mem=20.0, v_th=1.0)
    assert (model.reset, model.bias, model.v_init, model.u_init) == ("zero", 0.0, 0.0, 0.0)
    assert all(type(getattr(model, k)) is float for k in ("bias", "v_init", "u_init"))
    assert model.features() == {}


def test_every_variant_in_yaml():
    text = """format: nmcompile/v1
name: readout
seed: 5
populations:
  readout:
    model: lif
    size: 3
    tau_syn: 0
    tau_mem: 20.0
    v_th: .inf
    reset: subtract
    refractory: 2
    bias: {normal: [0.1, 0.02]}
    v_init: {uniform: [0, 1]}
    u_init: [0, 0.1, -0.25]
"""
    model = load_document(*parse(text, "r.yaml")).populations["readout"].model
    assert model.tau_syn == 0.0 and model.du(1.0) == 1.0
    assert math.isinf(model.v_th) and not model.spiking
    assert (model.reset, model.refractory) == ("subtract", 2)
    assert np.array_equal(model.bias, stable_rng(5, "param", "readout", "bias").normal(0.1, 0.02, 3))
    assert np.array_equal(model.v_init, stable_rng(5, "param", "readout", "v_init").uniform(0, 1, 3))
    assert model.u_init.dtype == np.float64 and model.u_init.tolist() == [0.0, 0.1, -0.25]
    assert set(model.features()) == {"refractory", "reset_subtract", "non_spiking"}


@pytest.mark.parametrize("word", ["inf", ".inf", "Infinity", " INF "])
def test_json_spells_an_infinite_threshold_as_a_string(word):
    assert math.isinf(exc_model(v_th=word, tau_syn=word).v_th)


def test_tau_syn_zero_in_any_spelling_is_plus_zero():
    for zero in (0, 0.0, -0.0):
        tau = exc_model(tau_syn=zero).tau_syn
        assert tau == 0.0 and math.copysign(1.0, tau) == 1.0


def test_draws_are_keyed_by_seed_population_and_parameter():
    dist = {"uniform": [-1.0, 1.0]}
    a = exc_model(bias=dist, v_init=dist)
    assert not np.array_equal(a.bias, a.v_init)  # one stream per parameter
    doc = doc_with(bias=dist, v_init=dist)
    doc["populations"] = {"other": {"model": "lif", "size": 2, "tau_syn": 1, "tau_mem": 1,
                                    "v_th": 1, "bias": dist}, **doc["populations"]}
    grown = load_document(doc)
    assert grown.populations["exc"].model == a  # another population draws from its own stream
    assert not np.array_equal(grown.populations["other"].model.bias, a.bias[:2])
    reseeded = load_document({**doc_with(bias=dist, v_init=dist), "seed": 10})
    assert not np.array_equal(reseeded.populations["exc"].model.bias, a.bias)


def test_a_list_of_equal_values_stays_a_list():
    """The network holds what was written: [x, x, x, x] is per neuron, x is one value, and the
    two models differ although they compute the same (so a saved model loads back equal)."""
    listed, scalar = exc_model(bias=[0.25] * 4), exc_model(bias=0.25)
    assert isinstance(listed.bias, np.ndarray) and listed.bias.tolist() == [0.25] * 4
    assert isinstance(scalar.bias, float)
    assert listed != scalar and listed == exc_model(bias=[0.25] * 4)


def test_degenerate_distributions_draw_their_one_value():
    model = exc_model(bias={"uniform": [0.5, 0.5]}, u_init={"normal": [-2.0, 0.0]})
    assert model.bias.tolist() == [0.5] * 4 and model.u_init.tolist() == [-2.0] * 4


ERRORS = [
    # tau_syn may be 0 now; tau_mem may not; both refuse negatives
    (dict(tau_syn=-1), "tau_syn", "must be a number ≥ 0 (or .inf), got -1"),
    (dict(tau_syn=-math.inf), "tau_syn", "must be a number ≥ 0 (or .inf), got -inf"),
    (dict(tau_syn=math.nan), "tau_syn", "must be a number ≥ 0 (or .inf), got nan"),
    (dict(tau_syn="fast"), "tau_syn", "must be a number, got 'fast'"),
    (dict(tau_syn=[1, 2]), "tau_syn", "must be a number, got [1, 2]"),
    (dict(tau_mem=0), "tau_mem", "must be a number > 0 (or .inf), got 0"),
    (dict(tau_syn=1e300), "tau_syn", "1e+300 ms decays by 1 − exp(−dt/tau) = 0 per step"),
    # v_th may be .inf now; nothing else changed
    (dict(v_th=0), "v_th", "must be a number > 0, got 0"),
    (dict(v_th=-math.inf), "v_th", "must be a number > 0, got -inf"),
    (dict(v_th="-inf"), "v_th", "must be a number, got '-inf'"),
    (dict(v_th=True), "v_th", "must be a number, got true"),
    # reset: one of two words
    (dict(reset="substract"), "reset", "must be one of zero, subtract, got 'substract'; "
                                       "did you mean 'subtract'?"),
    (dict(reset="Zero"), "reset", "must be one of zero, subtract, got 'Zero'; did you mean "
                                  "'zero'?"),
    (dict(reset="none"), "reset", "must be one of zero, subtract, got 'none'"),
    (dict(reset=0), "reset", "must be one of zero, subtract, got 0"),
    (dict(reset=["zero"]), "reset", "must be one of zero, subtract, got ['zero']"),
    (dict(refractory=[1, 2, 3, 4]), "refractory", "must be an integer ≥ 0, got [1, 2, 3, 4]"),
    (dict(refractory=1.5), "refractory", "must be an integer ≥ 0, got 1.5"),
    # per-neuron values: lists
    (dict(bias=[0.1, 0.2, 0.3]), "bias", "needs one value per neuron (4), got 3"),
    (dict(v_init=[0] * 5), "v_init", "needs one value per neuron (4), got 5"),
    (dict(u_init=[]), "u_init", "needs one value per neuron (4), got 0"),
    (dict(bias=[0.1, "x", 0.3, 0.4]), "bias[1]", "must be a finite number, got 'x'"),
    (dict(v_init=[0, 0, math.inf, 0]), "v_init[2]", "must be a finite number, got inf"),
    (dict(u_init=[0, 0, 0, math.nan]), "u_init[3]", "must be a finite number, got nan"),
    (dict(bias=[0, 0, 0, [1]]), "bias[3]", "must be a finite number, got [1]"),
    (dict(bias=math.inf), "bias", "must be a finite number, got inf"),
    (dict(v_init=None), "v_init", "must be a finite number, got None"),
    # per-neuron values: distributions, as for weights
    (dict(bias={"uniform": [1, 0]}), "bias.uniform", "needs lo ≤ hi, got [1.0, 0.0]"),
    (dict(v_init={"uniform": [-1e308, 1e308]}), "v_init.uniform",
     "the width hi − lo of [-1e+308, 1e+308] is beyond the range of float64 numbers"),
    (dict(u_init={"normal": [0, -1]}), "u_init.normal[1]", "std must be ≥ 0, got -1.0"),
    (dict(u_init={"normal": [0, 1e307]}), "u_init.normal",
     "[0, 1e+307] can draw values beyond the range of float64 numbers: |mean| + 40·std"),
    (dict(bias={"gauss": [0, 1]}), "bias.gauss", "unknown key 'gauss'; allowed: uniform, normal"),
    (dict(bias={"uniform": [0, 1], "normal": [0, 1]}), "bias", "give exactly one of uniform, "
                                                               "normal"),
    (dict(bias={}), "bias", "give exactly one of uniform, normal"),
    (dict(v_init={"uniform": [0]}), "v_init.uniform", "must be a pair [a, b], got [0]"),
    (dict(v_init={"uniform": [0, math.inf]}), "v_init.uniform[1]", "must be a finite number"),
    # keys
    (dict(rest="zero"), "rest", "unknown key 'rest'; did you mean 'reset'?"),
    (dict(u_int=0.0), "u_int", "unknown key 'u_int'; did you mean 'u_init'?"),
]


@pytest.mark.parametrize("keys, path, message", ERRORS, ids=[e[1] + ":" + e[2][:30] for e in ERRORS])
def test_parameter_errors_are_located(keys, path, message):
    with pytest.raises(InputError) as info:
        load_document(doc_with(**keys))
    assert str(info.value).startswith(f"<document>: populations.exc.{path}: {message}")


def test_the_document_is_not_mutated():
    doc = doc_with(bias={"normal": [0, 1]}, u_init=[1, 2, 3, 4], reset="subtract")
    before = copy.deepcopy(doc)
    load_document(doc)
    assert doc == before


def test_probes_and_projections_take_any_neuron_population():
    doc = doc_with(v_th=math.inf)
    doc["probes"] = [{"population": "exc", "var": "u"}, {"population": "exc", "var": "v"}]
    doc["projections"].append({"pre": "exc", "post": "exc", "connect": "all_to_all",
                               "weight": 0.1})
    net = load_document(doc)
    assert [(p.population, p.var) for p in net.probes] == [("exc", "u"), ("exc", "v")]
    doc["probes"] = [{"population": "stim", "var": "v"}]
    with pytest.raises(InputError, match="stim is a spike source: it has no state to record"):
        load_document(doc)


# -- the generic reader: a model the loader has never heard of --------------------------
@dataclass(frozen=True, kw_only=True)
class Toy:
    kind: ClassVar[str] = "toy"
    is_source: ClassVar[bool] = False
    PARAMS: ClassVar[tuple[Param, ...]] = (
        Param("tau", "tau", allow_zero=True, per_neuron=True),
        Param("theta", "threshold", 2.0, per_neuron=True),
        Param("hold", "steps", 3),
        Param("mode", "choice", "a", choices=("a", "bee")),
    )
    tau: object
    theta: object = 2.0
    hold: int = 3
    mode: str = "a"


def toy(spec: dict, size: int = 3) -> Toy:
    rng_of = lambda name: stable_rng(1, "param", "t", name)  # noqa: E731
    return neuron_model(Toy, spec, size, 1.0, rng_of, ("populations", "t"), Source("toy.yaml"))


def test_a_new_model_is_read_from_its_params_alone():
    assert toy({"tau": 0}) == Toy(tau=0.0)
    made = toy({"tau": [0, 1.5, "inf"], "theta": {"uniform": [0.5, 4.0]}, "hold": 7.0,
                "mode": "bee"})
    assert made.tau.tolist() == [0.0, 1.5, math.inf]
    assert np.array_equal(made.theta, stable_rng(1, "param", "t", "theta").uniform(0.5, 4.0, 3))
    assert (made.hold, made.mode) == (7, "bee") and type(made.hold) is int


@pytest.mark.parametrize("spec, message", [
    ({"tau": [1, -1, 2]}, "toy.yaml: populations.t.tau[1]: must be a number ≥ 0 (or .inf), got -1"),
    ({"tau": {"uniform": [-1, 2]}},
     "toy.yaml: populations.t.tau.uniform[0]: must be a number ≥ 0 (or .inf), got -1.0"),
    ({"tau": {"uniform": [1, 1e300]}},
     "toy.yaml: populations.t.tau.uniform[1]: 1e+300 ms decays by 1 − exp(−dt/tau) = 0"),
    ({"tau": 1, "theta": {"normal": [5, 1]}},
     "toy.yaml: populations.t.theta.normal: a normal distribution can draw any number, but "
     "theta is a threshold: use {uniform: [lo, hi]}"),
    ({"tau": 1, "theta": [1, 0, 1]}, "toy.yaml: populations.t.theta[1]: must be a number > 0"),
    ({"tau": 1, "hold": -1}, "toy.yaml: populations.t.hold: must be an integer ≥ 0, got -1"),
    ({"tau": 1, "mode": "be"}, "toy.yaml: populations.t.mode: must be one of a, bee, got 'be'; "
                               "did you mean 'bee'?"),
])
def test_a_new_model_gets_the_same_checks(spec, message):
    with pytest.raises(InputError) as info:
        toy(spec)
    assert str(info.value).startswith(message)


def test_per_neuron_values_are_for_number_kinds_only():
    @dataclass(frozen=True, kw_only=True)
    class Bad:
        PARAMS: ClassVar[tuple[Param, ...]] = (Param("hold", "steps", per_neuron=True),)
        hold: object

    with pytest.raises(TypeError, match="per-neuron values of kind steps are not supported"):
        neuron_model(Bad, {"hold": [1, 2]}, 2, 1.0, None, (), Source("x"))
