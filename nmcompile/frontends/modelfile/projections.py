"""The `projections:` list of a model file -> IR Projections (connectivity, weights, delays,
a learning rule: learning.py).

Each entry gives one IR projection, except fixed_total_number, whose pairs drawn twice with
different delays go to extra projections NAME-2, NAME-3, … (an IR projection has no pair twice).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nmcompile.frontends.modelfile import connectivity as conn
from nmcompile.frontends.modelfile.fields import DOTTED_NAME_RE, integer, number, unknown_name
from nmcompile.frontends.modelfile.learning import (check_plastic, check_shared_posts,
                                                    learning_rule)
from nmcompile.frontends.modelfile.npzfiles import array_names, npz_archive
from nmcompile.frontends.modelfile.weights import draw_delays, draw_weights
from nmcompile.frontends.modelfile.yamlmarks import Source, brief
from nmcompile.ir import LearningRule, Population, Projection, stable_rng
from nmcompile.memory import available_memory

PROJ_KEYS = ["name", "pre", "post", "connect", "weight", "delay", "allow_self", "learning"]
CONNECTORS = ["all_to_all", "one_to_one", "fixed_probability", "fixed_indegree",
              "fixed_outdegree", "fixed_total_number", "grid", "list", "file"]


@dataclass
class Spec:
    """One projection's parsed, checked spec: nothing drawn yet."""

    index: int
    name: str
    pre: Population
    post: Population
    kind: str
    arg: object
    self_ok: bool
    learning: LearningRule | None = None

    @property
    def path(self) -> tuple:
        return ("projections", self.index)


def build_projections(raw: object, pops: dict[str, Population], seed: int, dt: float,
                      src: Source, base_dir: str) -> tuple[Projection, ...]:
    if not isinstance(raw, list):
        raise src.fail(("projections",), f"must be a list of projections, got {raw!r}")
    specs, names = [], set()
    for i, item in enumerate(raw):
        spec = parse_spec(i, item, pops, names, src, base_dir)
        names.add(spec.name)
        specs.append(spec)
    check_reserved_names(specs, raw, src)
    check_memory(specs, src)
    drawn = [(spec, proj) for spec in specs for proj in draw(spec, raw[spec.index], seed, dt, src)]
    plastic = [(proj, spec.path) for spec, proj in drawn if proj.plastic]
    for proj, path in plastic:
        check_plastic(proj, raw[path[-1]], path, pops, src)
    check_shared_posts(plastic, src)
    return tuple(proj for _, proj in drawn)


def default_projection_name(pre: str, post: str, index: int, taken) -> str:
    """PRE_to_POST, or PRE_to_POST_<index> when an earlier projection has that name."""
    name = f"{pre}_to_{post}"
    return f"{name}_{index}" if name in taken else name


def parse_spec(i: int, item: object, pops, names: set, src: Source, base_dir: str) -> Spec:
    path = ("projections", i)
    if not isinstance(item, dict):
        raise src.fail(path, f"must be a mapping with pre, post, connect, weight, got {item!r}")
    src.check_keys(item, path, PROJ_KEYS, required=["pre", "post", "connect"])
    for end in ("pre", "post"):
        if not isinstance(item[end], str) or item[end] not in pops:
            raise src.fail(path + (end,), unknown_name("population", item[end], pops))
    pre, post = pops[item["pre"]], pops[item["post"]]
    if post.is_source:
        raise src.fail(path + ("post",), f"{post.name} is a spike source; it cannot receive input")
    name = item["name"] if "name" in item else default_projection_name(pre.name, post.name, i,
                                                                       names)
    if not isinstance(name, str) or not DOTTED_NAME_RE.match(name):
        raise src.fail(path + ("name",), f"must use letters, digits, - and _ (parts joined by "
                                         f"dots), got {name!r}")
    if name in names:
        raise src.fail(path + ("name",), f"duplicate projection name {name!r}")
    self_ok = True
    if "allow_self" in item:
        if pre.name != post.name:
            raise src.fail(path + ("allow_self",), "only allowed when pre == post")
        if not isinstance(item["allow_self"], bool):
            raise src.fail(path + ("allow_self",), f"must be true or false, got {item['allow_self']!r}")
        self_ok = item["allow_self"]
    kind, arg = parse_connect(item["connect"], pre, post, path + ("connect",), src, base_dir)
    rule = learning_rule(item["learning"], path + ("learning",), pops, src) \
        if "learning" in item else None
    return Spec(i, name, pre, post, kind, arg, self_ok, rule)


def parse_connect(raw: object, pre: Population, post: Population, path, src: Source,
                  base_dir: str) -> tuple[str, object]:
    if isinstance(raw, str):
        if raw not in CONNECTORS:
            raise src.fail(path, unknown_name("connector", raw, CONNECTORS))
        if raw not in ("all_to_all", "one_to_one"):
            raise src.fail(path, f"{raw} needs an argument: {{{raw}: ...}}")
        if raw == "one_to_one" and pre.size != post.size:
            raise src.fail(path, f"one_to_one needs equal sizes, got {pre.name} {pre.size} and "
                                 f"{post.name} {post.size}")
        return raw, None
    if not (isinstance(raw, dict) and len(raw) == 1):
        raise src.fail(path, f"must be all_to_all, one_to_one or a one-key mapping "
                             f"({', '.join(CONNECTORS[2:])}), got {raw!r}")
    kind, arg = next(iter(raw.items()))
    src.check_keys(raw, path, CONNECTORS[2:])
    where = path + (kind,)
    if kind == "fixed_probability":
        p = number(arg, where, src)
        if not 0 <= p <= 1:
            raise src.fail(where, f"must be a probability in [0, 1], got {arg!r}")
        return kind, p
    if kind == "fixed_indegree":
        return kind, integer(arg, where, src, minimum=0, maximum=pre.size)
    if kind == "fixed_outdegree":
        return kind, integer(arg, where, src, minimum=0, maximum=post.size)
    if kind == "fixed_total_number":
        return kind, integer(arg, where, src, minimum=0)
    if kind == "grid":
        return kind, parse_grid(arg, pre, post, where, src)
    if kind == "list":
        return kind, parse_pair_list(arg, pre, post, where, src)
    return kind, read_pair_file(arg, pre, post, where, src, base_dir)


def parse_grid(arg, pre, post, path, src: Source) -> dict:
    if not isinstance(arg, dict):
        raise src.fail(path, f"must be a mapping {{radius: r, diagonal: bool, wrap: bool}}, got {arg!r}")
    src.check_keys(arg, path, ["radius", "diagonal", "wrap"], required=["radius"])
    for flag in ("diagonal", "wrap"):
        if not isinstance(arg.get(flag, False), bool):
            raise src.fail(path + (flag,), f"must be true or false, got {arg[flag]!r}")
    if conn.grid_shape(pre) != conn.grid_shape(post):
        raise src.fail(path, f"grid needs equal shapes, got {pre.name} {list(conn.grid_shape(pre))}"
                             f" and {post.name} {list(conn.grid_shape(post))}")
    return {"radius": integer(arg["radius"], path + ("radius",), src, minimum=0),
            "diagonal": arg.get("diagonal", True), "wrap": arg.get("wrap", False)}


def parse_pair_list(arg, pre, post, path, src: Source) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(arg, list):
        raise src.fail(path, f"must be a list of [pre, post] pairs, got {arg!r}")
    pres, posts, seen = [], [], {}
    for k, pair in enumerate(arg):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise src.fail(path + (k,), f"must be a [pre, post] pair, got {pair!r}")
        pres.append(integer(pair[0], path + (k, 0), src, minimum=0, maximum=pre.size - 1))
        posts.append(integer(pair[1], path + (k, 1), src, minimum=0, maximum=post.size - 1))
        first = seen.setdefault((pres[-1], posts[-1]), k)
        if first != k:
            raise src.fail(path + (k,), f"synapse {pres[-1]} -> {posts[-1]} is listed twice "
                                        f"(first at index {first})")
    return np.array(pres, dtype=np.int32), np.array(posts, dtype=np.int32)


def read_pair_file(arg, pre, post, path, src: Source, base_dir: str) -> dict:
    """An .npz with integer arrays `pre`, `post` and optionally `weight`, `delay` (one per synapse)."""
    with npz_archive(arg, path, src, base_dir) as (archive, shown, _):
        arrays = dict.fromkeys(array_names(archive))
        unknown = set(arrays) - {"pre", "post", "weight", "delay"}
        if unknown or not {"pre", "post"} <= set(arrays):
            raise src.fail(path, f"{shown} must hold arrays pre, post and optionally weight, "
                                 f"delay; has {brief(', '.join(sorted(arrays))) or 'none'}")
        arrays = {k: archive.array(f"{k}.npy") for k in arrays}
    n = arrays["pre"].shape
    for key, arr in arrays.items():
        if arr.ndim != 1 or arr.shape != n:
            raise src.fail(path, f"{shown}: array {key} must be 1-D with one entry per synapse")
    for key, size, pop in (("pre", pre.size, pre), ("post", post.size, post)):
        idx = arrays[key]
        if not np.issubdtype(idx.dtype, np.integer):
            raise src.fail(path, f"{shown}: {key} indices must be integers, got {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= size):
            raise src.fail(path, f"{shown}: {key} index "
                                 f"{int(idx.max() if idx.max() >= size else idx.min())}"
                                 f" out of range for {pop.name} (size {size})")
    return arrays


def extra_name(name: str, rank: int) -> str:
    """The projection holding rank `rank` (0 first) of a fixed_total_number projection's
    multapses (connectivity.merge_multapses): NAME, NAME-2, NAME-3, …"""
    return name if rank == 0 else f"{name}-{rank + 1}"


def check_reserved_names(specs: list[Spec], raw: list, src: Source) -> None:
    """A fixed_total_number projection N may add projections N-2, N-3, …, as many as its draws
    need: those names are N's, taken or not, so that whether a file loads never depends on the
    seed."""
    owners = {s.name: s for s in specs if s.kind == "fixed_total_number"}
    for s in specs:
        base, _, suffix = s.name.rpartition("-")
        if base in owners and suffix.isdigit() and int(suffix) >= 2 \
                and extra_name(base, int(suffix) - 1) == s.name:
            raise src.fail(s.path + (("name",) if "name" in raw[s.index] else ()),
                           f"name {s.name!r} is reserved for the multapses of fixed_total_number "
                           f"projection {base!r} (projections[{owners[base].index}]); "
                           f"rename one of them")


def check_memory(specs: list[Spec], src: Source) -> None:
    """Refuse, before drawing anything, a network whose synapses cannot fit in memory."""
    expected = [conn.expected_synapses(s.kind, s.arg, s.pre.size, s.post.size, s.self_ok,
                                       s.pre.name == s.post.name, conn.grid_shape(s.post))
                for s in specs]
    total = float(sum(expected))
    need = total * conn.IR_BYTES_PER_SYNAPSE + max(expected, default=0) * conn.DRAW_BYTES_PER_SYNAPSE
    have = available_memory()
    if need > have:  # located at the largest projection, the first to reconsider
        largest = max(range(len(specs)), key=expected.__getitem__)
        raise src.fail(specs[largest].path,
                       f"about {total:,.0f} synapses in all (this projection, "
                       f"{specs[largest].name}: about {expected[largest]:,.0f}) need "
                       f"~{need / 2**30:,.1f} GiB to build, but only {have / 2**30:,.1f} GiB of "
                       f"memory is available; lower the connectivity or the population sizes")


def draw(spec: Spec, item: dict, seed: int, dt: float, src: Source) -> tuple[Projection, ...]:
    """The spec's projection (several for fixed_total_number's multapses, see extra_name)."""
    rng = lambda what: stable_rng(seed, "projection", spec.name, what)  # noqa: E731
    n_pre, n_post, self_ok, kind = spec.pre.size, spec.post.size, spec.self_ok, spec.kind
    where = spec.path + ("connect", kind)
    given = {}
    if kind == "all_to_all":
        pre, post = conn.all_to_all(n_pre, n_post, self_ok)
    elif kind == "one_to_one":
        pre, post = conn.one_to_one(n_pre, n_post, self_ok)
    elif kind == "fixed_probability":
        pre, post = conn.fixed_probability(n_pre, n_post, spec.arg, self_ok, rng("connect"))
    elif kind in ("fixed_indegree", "fixed_outdegree"):
        among = n_pre if kind == "fixed_indegree" else n_post
        if not self_ok and spec.arg > among - 1:
            raise src.fail(where, f"must be ≤ {among - 1} without self connections, "
                                  f"got {spec.arg}")
        connector = conn.fixed_indegree if kind == "fixed_indegree" else conn.fixed_outdegree
        pre, post = connector(n_pre, n_post, spec.arg, self_ok, rng("connect"))
    elif kind == "fixed_total_number":
        if spec.arg and not conn.allowed_pairs(n_pre, n_post, self_ok):
            raise src.fail(where, f"{spec.pre.name} has a single neuron and allow_self is "
                                  f"false: there is no pair to draw {spec.arg} synapses from")
        pre, post = conn.fixed_total_number(n_pre, n_post, spec.arg, self_ok, rng("connect"))
    elif kind == "grid":
        pre, post = conn.grid(conn.grid_shape(spec.pre), **spec.arg, self_ok=self_ok)
    elif kind == "list":
        pre, post = spec.arg
    else:
        pre, post = spec.arg["pre"].astype(np.int32), spec.arg["post"].astype(np.int32)
        given = {k: spec.arg[k] for k in ("weight", "delay") if k in spec.arg}
    n = len(pre)
    weight = draw_weights(item, given.get("weight"), n, spec.path, src, rng("weight"))
    delay = draw_delays(item, given.get("delay"), n, dt, spec.path, src, rng("delay"))
    if kind == "fixed_total_number":  # drawn sorted by (pre, post), as merging needs
        pre, post, weight, delay, rank = conn.merge_multapses(pre, post, weight, delay)
        return tuple(projection(spec, extra_name(spec.name, r), pre[rank == r], post[rank == r],
                                weight[rank == r], delay[rank == r], src)
                     for r in range(int(rank.max(initial=0)) + 1))
    pre, post, weight, delay = conn.sort_pairs(pre, post, weight, delay)
    dup = conn.duplicate_pair(pre, post)
    if dup is not None:
        raise src.fail(spec.path + ("connect",),
                       f"synapse {int(pre[dup])} -> {int(post[dup])} is listed twice")
    return (projection(spec, spec.name, pre, post, weight, delay, src),)


def projection(spec: Spec, name: str, pre, post, weight, delay, src: Source) -> Projection:
    return Projection(name=name, pre=spec.pre.name, post=spec.post.name,
                      pre_idx=pre.astype(np.int32), post_idx=post.astype(np.int32),
                      weight=weight.astype(np.float64), delay=delay.astype(np.int32),
                      learning=spec.learning, location=src.location(spec.path))
