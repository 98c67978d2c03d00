"""Python builder API, equivalent to the model file: it assembles a v1 document and loads it
through the same checks and random draws, so a built network equals its file twin."""
from __future__ import annotations

import os

import numpy as np

from nmcompile.frontends.modelfile import FORMAT, load_document
from nmcompile.frontends.modelfile.learning import learning_doc
from nmcompile.frontends.modelfile.yamlmarks import Path, Source
from nmcompile.diagnostics import error
from nmcompile.ir import Location, Network, RewardSTDP, STDP


def _plain(value):
    """numpy arrays and scalars -> lists and Python numbers, as a YAML parser would give them."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class _Body:
    """What a model file's body holds (populations, projections, probes, currents), written
    into `self.body`: the document itself for a NetworkBuilder, a module for a ModuleBuilder."""

    body: dict
    where: str  # for errors: the builder, and the module

    def _population(self, name: str, spec: dict) -> str:
        _once(self.body.setdefault("populations", {}), name, "population", self.where)
        self.body["populations"][name] = _plain({k: v for k, v in spec.items() if v is not None})
        return name

    def neuron(self, name: str, model: str, *, size: int, shape=None, **params) -> str:
        """A population of any neuron model, its parameters named as in the model file
        (the model's PARAMS); lif() is this with LIF's parameters spelled out."""
        return self._population(name, dict(model=model, size=size, shape=shape, **params))

    def lif(self, name: str, *, size: int, tau_syn: float, tau_mem: float, v_th: float,
            bias=0.0, refractory: int = 0, reset: str = "zero", v_init=0.0, u_init=0.0,
            shape=None) -> str:
        """bias, v_init, u_init: a number, one per neuron (list or array), or a distribution
        {"uniform": [lo, hi]} / {"normal": [mean, std]} drawn at build time from the seed."""
        return self.neuron(name, "lif", size=size, shape=shape, tau_syn=tau_syn, tau_mem=tau_mem,
                           v_th=v_th, bias=bias, refractory=refractory, reset=reset,
                           v_init=v_init, u_init=u_init)

    def izhikevich(self, name: str, *, size: int, a: float, b: float, c: float, d: float,
                   shape=None, **params) -> str:
        """An Izhikevich (2004) population (docs/design.md §2.6); further parameters (k0, k1,
        k2, v_b, g, v_peak, tau_syn, bias, v_init, u_init) by name."""
        return self.neuron(name, "izhikevich", size=size, shape=shape, a=a, b=b, c=c, d=d,
                           **params)

    def adaptive_lif(self, name: str, *, size: int, tau_syn: float, tau_mem: float,
                     tau_theta: float, tau_r: float, theta_0: float, theta_step: float,
                     bias=0.0, shape=None) -> str:
        """An adaptive-threshold LIF population (Lava's ATRLIF, docs/design.md §2.7)."""
        return self.neuron(name, "adaptive_lif", size=size, shape=shape, tau_syn=tau_syn,
                           tau_mem=tau_mem, tau_theta=tau_theta, tau_r=tau_r, theta_0=theta_0,
                           theta_step=theta_step, bias=bias)

    def poisson(self, name: str, *, size: int, rate, shape=None) -> str:
        return self._population(name, dict(model="poisson", size=size, shape=shape, rate=rate))

    def spike_array(self, name: str, *, size: int, spikes, shape=None) -> str:
        """spikes: [[neuron, step], ...]."""
        return self._population(name, dict(model="spike_array", size=size, shape=shape,
                                           spikes=spikes))

    def connect(self, pre: str, post: str, connect, *, weight, delay=1, name: str | None = None,
                allow_self: bool | None = None,
                learning: STDP | RewardSTDP | None = None) -> None:
        """connect: "all_to_all" | "one_to_one" | {"fixed_probability": p} | {"grid": {...}} | ...

        learning: an `ir.STDP` or `ir.RewardSTDP` (taus in ms, docs/design.md §4.10; its
        `reward` names a population as pre and post do); it is written into the document as
        the file's `learning:` mapping, so it gets the file's checks."""
        if learning is not None and not isinstance(learning, (STDP, RewardSTDP)):
            raise error(f"connect({pre}, {post}): learning must be an ir.STDP or "
                        f"ir.RewardSTDP, got {type(learning).__name__}", Location(self.where))
        spec = dict(name=name, pre=pre, post=post, connect=connect, weight=weight, delay=delay,
                    allow_self=allow_self,
                    learning=None if learning is None else learning_doc(learning))
        self.body.setdefault("projections", []).append(_plain({k: v for k, v in spec.items() if v is not None}))

    def probe(self, population: str, var: str) -> None:
        self.body.setdefault("probes", []).append({"population": population, "var": var})

    def weight_probe(self, projection: str, every: int) -> None:
        """Record a plastic projection's weights every `every` steps (ir.WeightProbe)."""
        self.body.setdefault("probes", []).append({"projection": projection, "every": every})

    def current(self, population: str, *, steps=None, ramp=None, file=None,
                neurons=None) -> None:
        """An injected current (DESIGN §2.5): exactly one of steps or ramp ([[step, value], ...])
        or file (an .npz with array `current`, relative to build()'s base_dir); neurons: the
        indices it goes to (default every neuron)."""
        spec = dict(population=population, neurons=neurons, steps=steps, ramp=ramp,
                    file=None if file is None else os.fspath(file))
        self.body.setdefault("currents", []).append(_plain({k: v for k, v in spec.items() if v is not None}))


class ModuleBuilder(_Body):
    """The body of a module (docs/design.md §8): the builder's methods with local names, any
    value "$param" for one of the module's parameters, and instances of other modules."""

    def __init__(self, body: dict, where: str):
        self.body, self.where = body, where

    def instance(self, module: str, name: str, *, count: int | None = None,
                 params: dict | None = None) -> str:
        """An instance of another module inside this one; returns its name."""
        self.body.setdefault("instances", []).append(_instance(module, name, count, params))
        return name


class NetworkBuilder(_Body):
    """Build a Network in Python; each method returns the population name for chaining into connect().

    >>> b = NetworkBuilder("demo", steps=100, seed=1)
    >>> stim = b.poisson("stim", size=4, rate=20)
    >>> exc = b.lif("exc", size=4, tau_syn=4.0, tau_mem=20.0, v_th=1.0)
    >>> b.connect(stim, exc, "one_to_one", weight=0.6)
    >>> net = b.build()

    Modules: `col = b.module("column", params={"w": 0.3})` returns a ModuleBuilder with the same
    methods; `b.instance("column", "c0")` then makes populations `c0.<name>`.
    """

    def __init__(self, name: str, *, dt: float = 1.0, steps: int = 100, seed: int = 0):
        self.doc: dict = {"format": FORMAT, "name": name, "dt": dt, "steps": steps, "seed": seed,
                          "populations": {}, "projections": [], "probes": [], "currents": []}
        self.body, self.where = self.doc, f"<builder {name}>"

    def module(self, name: str, *, params: dict | None = None) -> ModuleBuilder:
        """Define module `name` (its parameters' defaults in `params`; None: each instance
        must give it) and return its builder."""
        _once(self.doc.setdefault("modules", {}), name, "module", self.where)
        body = {"params": _plain(params)} if params else {}
        self.doc["modules"][name] = body
        return ModuleBuilder(body, f"{self.where}: module {name}")

    def instance(self, module: str, name: str, *, count: int | None = None,
                 params: dict | None = None) -> str:
        """Instance `name` of `module` (`count`: NAME.0 … NAME.<count-1>); returns its name,
        the prefix of its populations' and projections' names."""
        self.doc.setdefault("instances", []).append(_instance(module, name, count, params))
        return name

    def build(self, base_dir: str = ".") -> Network:
        return load_document(self.doc, _BuilderSource(f"<builder {self.doc['name']}>",
                                                      doc=self.doc), base_dir)


class _BuilderSource(Source):
    """A builder's document has no lines: an error in a projection the builder named names
    it (`projections[2].learning.tau_plus (projection in_exc)`), as a connect() call is
    found by its name, not its index."""

    def __init__(self, file: str, doc: dict):
        super().__init__(file)
        self.doc = doc

    def location(self, path: Path) -> Location:
        where = super().location(path)
        items = self.doc.get("projections")
        if len(path) < 2 or path[0] != "projections" or not isinstance(items, list) \
                or not isinstance(path[1], int) or path[1] >= len(items):
            return where
        name = items[path[1]].get("name") if isinstance(items[path[1]], dict) else None
        if not isinstance(name, str):
            return where
        return Location(where.file, where.line, f"{where.path} (projection {name})")


def _once(defined: dict, name: str, kind: str, where: str) -> None:
    """A second definition under one name would silently replace the first: refused, as a
    model file's duplicate key is."""
    if name in defined:
        raise error(f"{kind} {name!r} is defined twice", Location(where))


def _instance(module: str, name: str, count: int | None, params: dict | None) -> dict:
    spec = dict(module=module, name=name, count=count, params=params)
    return _plain({k: v for k, v in spec.items() if v is not None})
