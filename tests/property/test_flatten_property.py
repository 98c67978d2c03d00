"""Flattening random module trees (DESIGN §8.2) against an expansion written here from the
format's rules alone: the flattened populations (names, order, sizes), every projection with
its synapse count, and the module tree with its totals; reordering the top level's instances
changes no draw.

Modules m0, m1, m2 hold instances only of modules after them, so no tree has a cycle. Every
module declares a parameter `n` that sets population sizes, is passed down to inner instances
("$n") or counts them. Connectors are those whose synapse count follows from the sizes
(all_to_all; one_to_one onto itself; fixed_indegree and fixed_outdegree of 1, which still
draw). Projections are named explicitly: default names are built in library code, and the
point here is the flattening of structure.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nmcompile.frontends.modelfile import load_document
from nmcompile.ir import instance_totals

CI = settings(derandomize=True, max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
LIF = {"model": "lif", "tau_syn": 5.0, "tau_mem": 20.0, "v_th": 1.0,
       "v_init": {"uniform": [0.0, 1.0]}}
POPULATION_NAMES = ["exc", "inh", "p"]
INSTANCE_NAMES = ["x", "y"]
TOP_NAMES = ["c", "d", "e"]
CONNECTORS = ["all_to_all", "one_to_one", {"fixed_indegree": 1}, {"fixed_outdegree": 1}]
MAX_POPULATIONS = 60  # flattened: keeps an example to milliseconds


def join(prefix: str, local: str) -> str:
    return f"{prefix}.{local}" if prefix else local


def synapse_count(connect, pre: int, post: int) -> int:
    if connect == "all_to_all":
        return pre * post
    if connect == "one_to_one":
        return pre
    return post if "fixed_indegree" in connect else pre


@dataclass
class Expansion:
    """What an instance flattens to, in the documented order, and its module-tree rows."""

    populations: dict[str, int] = field(default_factory=dict)  # name -> size
    projections: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # pre, post, n
    nodes: list[tuple] = field(default_factory=list)  # (name, module, params, pops, projs)
    totals: dict[str, tuple[int, int]] = field(default_factory=dict)  # neurons, synapses


def expand(modules: dict, body: dict, name: str, module: str, params: dict) -> Expansion:
    """Instance `name` of `body`: its own populations, then its instances' (depth first); the
    same for projections; "$n" is params["n"] (the top level, params {}, has no "$")."""
    def value(v):
        return params["n"] if v == "$n" else v

    own = Expansion()
    own.populations = {join(name, p): value(spec["size"])
                       for p, spec in body.get("populations", {}).items()}
    inner = []
    for item in body.get("instances", []):
        inner_module = modules[item["module"]]
        inner_params = {"n": value(item.get("params", {}).get("n", inner_module["params"]["n"]))}
        count = value(item.get("count"))
        names = [item["name"]] if count is None else [f"{item['name']}.{k}" for k in range(count)]
        inner += [expand(modules, inner_module, join(name, n), item["module"], inner_params)
                  for n in names]
    sizes = {**own.populations, **{p: s for e in inner for p, s in e.populations.items()}}
    for proj in body.get("projections", []):
        pre, post = join(name, proj["pre"]), join(name, proj["post"])
        own.projections[join(name, proj["name"])] = (
            pre, post, synapse_count(proj["connect"], sizes[pre], sizes[post]))
    own.nodes = [(name, module, params, tuple(own.populations), tuple(own.projections))]
    whole = Expansion(populations=sizes, projections=dict(own.projections), nodes=own.nodes)
    for e in inner:
        whole.projections.update(e.projections)
        whole.nodes += e.nodes
        whole.totals.update(e.totals)
    whole.totals[name] = (sum(sizes.values()), sum(n for _, _, n in whole.projections.values()))
    return whole


def visible(modules: dict, body: dict, prefix: str = "") -> list[str]:
    """Population names a body's projections may use whatever `n` is: its own and those in
    its instances (of an instance counted by "$n", only the first, as n ≥ 1)."""
    names = [join(prefix, p) for p in body.get("populations", {})]
    for item in body.get("instances", []):
        count = item.get("count")
        parts = [item["name"]] if count is None else [
            f"{item['name']}.{k}" for k in range(1 if count == "$n" else count)]
        for part in parts:
            names += visible(modules, modules[item["module"]], join(prefix, part))
    return names


@st.composite
def projections(draw, names: list[str], prefix: str) -> list[dict]:
    out = []
    for k in range(draw(st.integers(0, 3))):
        pre, post = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        connect = draw(st.sampled_from(CONNECTORS if pre == post else
                                       [c for c in CONNECTORS if c != "one_to_one"]))
        out.append({"name": f"{prefix}{k}", "pre": pre, "post": post, "connect": connect,
                    "weight": 0.1})
    return out


@st.composite
def instances(draw, choices: list[str], names: list[str], inside: bool) -> list[dict]:
    """Instances of modules `choices`; "$n" only inside a module."""
    out = []
    for name in draw(st.lists(st.sampled_from(names), min_size=0 if inside else 1, max_size=2,
                              unique=True)):
        item = {"module": draw(st.sampled_from(choices)), "name": name}
        count = draw(st.sampled_from([None, 1, 2, 3] + (["$n"] if inside else [])))
        if count is not None:
            item["count"] = count
        given = draw(st.sampled_from([None, "literal"] + (["$n"] if inside else [])))
        if given is not None:
            item["params"] = {"n": draw(st.integers(1, 4)) if given == "literal" else "$n"}
        out.append(item)
    return out


@st.composite
def module_trees(draw) -> dict:
    """A document of random modules, instances and projections between them."""
    modules: dict = {}
    n_modules = draw(st.integers(1, 3))
    for i in reversed(range(n_modules)):  # inner modules first: m_i holds only m_j, j > i
        locals_ = draw(st.lists(st.sampled_from(POPULATION_NAMES), min_size=1, max_size=3,
                                unique=True))
        body = {"params": {"n": draw(st.integers(1, 4))},
                "populations": {p: {**LIF, "size": draw(st.sampled_from(["$n", 1, 2, 3]))}
                                for p in locals_}}
        if i + 1 < n_modules:
            body["instances"] = draw(instances([f"m{j}" for j in range(i + 1, n_modules)],
                                               INSTANCE_NAMES, inside=True))
        body["projections"] = draw(projections(visible(modules, body), "e"))
        modules[f"m{i}"] = body
    top = {"instances": draw(instances(sorted(modules), TOP_NAMES, inside=False))}
    if draw(st.booleans()):
        top["populations"] = {"stim": {"model": "poisson", "size": 2, "rate": 50}}
    flat = expand(modules, top, "", "", {}).populations
    assume(len(flat) <= MAX_POPULATIONS)
    top["projections"] = [p for p in draw(projections(list(flat), "t"))
                          if p["post"] != "stim"]  # a spike source receives nothing
    return {"format": "nmcompile/v1", "name": "tree", "seed": 3, "modules": modules, **top}


def expected(doc: dict) -> Expansion:
    return expand(doc["modules"], doc, "", "", {})


@CI
@given(doc=module_trees())
def test_flattening_matches_an_independent_expansion(doc):
    net, want = load_document(doc), expected(doc)
    assert {name: p.size for name, p in net.populations.items()} == want.populations
    assert list(net.populations) == list(want.populations)  # unique, in the documented order
    got = {p.name: (p.pre, p.post, p.n_synapses) for p in net.projections}
    assert got == want.projections
    assert [p.name for p in net.projections] == list(want.projections)


@CI
@given(doc=module_trees())
def test_module_tree_and_its_totals(doc):
    net, want = load_document(doc), expected(doc)
    nodes = [(inst.name, inst.module, inst.params, inst.populations, inst.projections)
             for _, inst in net.modules.walk()]
    assert nodes == want.nodes
    totals = instance_totals(net.modules, {p.name: p.size for p in net.populations.values()},
                             {p.name: p.n_synapses for p in net.projections})
    assert totals == want.totals
    assert totals[""] == (net.n_neurons, sum(p.n_synapses for p in net.projections))


@CI
@given(doc=module_trees())
def test_reordering_top_level_instances_changes_no_draw(doc):
    assume(len(doc["instances"]) > 1)
    net = load_document(doc)
    turned = load_document({**doc, "instances": doc["instances"][::-1]})
    assert net.populations == turned.populations  # dicts: the same entries, order aside
    theirs = {p.name: p for p in turned.projections}
    assert theirs.keys() == {p.name for p in net.projections}
    for proj in net.projections:
        assert proj == theirs[proj.name]
