"""Modules (DESIGN §8): the flattening pass, between parsing a model file and building it.

It turns a document with `modules` and `instances` into the plain v1 document that every
later step reads (population `c1.exc`, projection `c1.exc_to_exc`) before anything is drawn,
so each random draw is keyed by a flattened name and each instance draws its own synapses.
A FlatSource remembers, for every flattened entry, the line of the module it came from and
its instance, so an error inside a module names both. Entries come in a fixed order, which a
hand-flattened twin follows to be equal: the top level's own entries, then each instance's,
in the order listed; inside an instance, its own entries, then its instances', depth first.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from nmcompile.frontends.modelfile.fields import NAME_RE, integer, unknown_name
from nmcompile.frontends.modelfile.projections import default_projection_name
from nmcompile.frontends.modelfile.yamlmarks import Path, Source, path_text
from nmcompile.ir import Location, ModuleInstance

TOP_KEYS = ["modules", "instances"]
MODULE_KEYS = ["params", "populations", "projections", "probes", "currents", "instances"]
INSTANCE_KEYS = ["module", "name", "count", "params"]
LISTS = ("projections", "probes", "currents")  # a body's list entries (populations: a mapping)
# flattened populations, projections, probes, currents and instances together: beyond this a
# network is better written with fewer, larger populations, and expanding it would take long
MAX_ENTRIES = 1_000_000
MAX_NESTING = 32  # modules inside modules, levels


@dataclass
class FlatSource(Source):
    """Lines of a flattened document: an entry that came from a module answers with the
    module's line and path, and names its instance."""

    origins: dict[Path, tuple[Path, str]] = field(default_factory=dict)

    def _origin(self, path: Path) -> tuple[Path, str] | None:
        path = tuple(path)
        for cut in range(len(path), 0, -1):
            found = self.origins.get(path[:cut])
            if found is not None:
                return found[0] + path[cut:], found[1]
        return None

    def line(self, path: Path) -> int | None:
        found = self._origin(path)
        return Source.line(self, found[0] if found else path)

    def location(self, path: Path) -> Location:
        found = self._origin(path)
        if found is None:
            return Source.location(self, path)
        where, instance = found
        return Location(self.file, Source.line(self, where),
                        f"{path_text(where)} (instance {instance})")


@dataclass
class InstanceSource(Source):
    """Lines of the file, for what goes wrong while one instance is flattened: the location
    names the instance."""

    instance: str = ""

    def location(self, path: Path) -> Location:
        where = Source.location(self, path)
        return Location(where.file, where.line, f"{where.path} (instance {self.instance})")


@dataclass
class Fragment:
    """What one instance flattens to: entries as (flattened name or spec, path in the file,
    instance), and its node of the module tree."""

    populations: list = field(default_factory=list)  # (name, spec, path, instance)
    lists: dict = field(default_factory=lambda: {kind: [] for kind in LISTS})  # (spec, path, inst)
    node: ModuleInstance | None = None


def flatten(doc: dict, src: Source) -> tuple[dict, Source, ModuleInstance | None]:
    """The plain document, its lines and the module tree; a document without modules and
    instances is returned as it is, with no tree."""
    if not any(key in doc for key in TOP_KEYS):
        return doc, src, None
    flattener = Flattener(read_modules(doc.get("modules", {}), src), src)
    return flattener.top(doc)


# -- module definitions --------------------------------------------------------------------
def read_modules(raw: object, src: Source) -> dict[str, dict]:
    """The `modules` mapping, each body's shape checked; then no module may hold itself."""
    if not isinstance(raw, dict):
        raise src.fail(("modules",), f"must be a mapping of name -> module, got {raw!r}")
    for name, body in raw.items():
        path = ("modules", name)
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise src.fail(path, f"module name must use letters, digits, - and _ only, got "
                                 f"{name!r}")
        if not isinstance(body, dict):
            raise src.fail(path, f"must be a mapping with {', '.join(MODULE_KEYS)}")
        src.check_keys(body, path, MODULE_KEYS)
        if not body.get("populations") and not body.get("instances"):
            raise src.fail(path, f"module {name} is empty: give it populations or instances")
        params = body.get("params", {})
        if not isinstance(params, dict):
            raise src.fail(path + ("params",), f"must be a mapping of name -> default value "
                                               f"(null: the instance must give it), got "
                                               f"{params!r}")
        for key, default in params.items():
            if not isinstance(key, str) or not NAME_RE.match(key):
                raise src.fail(path + ("params", key), f"parameter name must use letters, "
                                                       f"digits, - and _ only, got {key!r}")
            if _refers(default):
                raise src.fail(path + ("params", key), f"a default cannot refer to a "
                                                       f"parameter, got {default!r}")
        if not isinstance(body.get("populations", {}), dict):
            raise src.fail(path + ("populations",), "must be a mapping of name -> population")
        for kind in LISTS + ("instances",):
            if not isinstance(body.get(kind, []), list):
                raise src.fail(path + (kind,), f"must be a list, got {body[kind]!r}")
    check_nesting(raw, src)
    return raw


def check_nesting(modules: dict[str, dict], src: Source) -> None:
    """A module that holds itself, directly or through others, would never end; nor may the
    nesting be deeper than MAX_NESTING."""
    graph, where = nx.DiGraph(), {}
    graph.add_nodes_from(modules)
    for name, body in modules.items():
        for i, item in enumerate(body.get("instances", [])):
            inner = item.get("module") if isinstance(item, dict) else None
            if isinstance(inner, str) and inner in modules:
                graph.add_edge(name, inner)
                where.setdefault((name, inner), ("modules", name, "instances", i, "module"))
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        chain = " → ".join([cycle[0][0]] + [v for _, v in cycle])
        raise src.fail(where[cycle[0]], f"modules hold each other in a cycle: {chain}")
    if nx.dag_longest_path_length(graph) >= MAX_NESTING:
        deepest = nx.dag_longest_path(graph)
        raise src.fail(("modules", deepest[0]), f"modules are nested {len(deepest)} deep "
                                                f"({' → '.join(deepest[:4])} → …); at most "
                                                f"{MAX_NESTING} levels")


def _refers(value: object) -> bool:
    """Does a value use "$name" anywhere?"""
    if isinstance(value, str):
        return value.startswith("$")
    if isinstance(value, dict):
        return any(_refers(v) for v in value.values())
    if isinstance(value, list):
        return any(_refers(v) for v in value)
    return False


# -- flattening ----------------------------------------------------------------------------
class Flattener:
    """Expands instances depth first, counting what it makes so that no file can make it
    expand without end."""

    def __init__(self, modules: dict[str, dict], src: Source):
        self.modules, self.src, self.made = modules, src, 0

    def top(self, doc: dict) -> tuple[dict, FlatSource, ModuleInstance]:
        src = self.src
        own_pops = doc.get("populations", {})
        if not isinstance(own_pops, dict):
            raise src.fail(("populations",), "must be a mapping of name -> population")
        own = {kind: doc.get(kind, []) for kind in LISTS}
        for kind, items in own.items():
            if not isinstance(items, list):
                raise src.fail((kind,), f"must be a list, got {items!r}")
        children = [self.instance(*found) for found in
                    self.instances(doc.get("instances", []), ("instances",), None, "", src)]
        flat = {key: value for key, value in doc.items() if key not in TOP_KEYS}
        flat["populations"], origins = dict(own_pops), {}
        for child in children:
            for name, spec, path, instance in child.populations:
                if name in flat["populations"]:
                    raise src.fail(path, f"population {name} (instance {instance}) is also "
                                         f"declared at the top level")
                flat["populations"][name] = spec
                origins[("populations", name)] = (path, instance)
        for kind in LISTS:
            flat[kind] = list(own[kind])
            for child in children:
                for spec, path, instance in child.lists[kind]:
                    origins[(kind, len(flat[kind]))] = (path, instance)
                    flat[kind].append(spec)
        root = ModuleInstance(name="", module="", populations=tuple(own_pops),
                              projections=tuple(_names(own["projections"])),
                              children=tuple(c.node for c in children),
                              location=src.location(()))
        return flat, FlatSource(src.file, src.lines, origins), root

    def instances(self, raw: object, path: Path, values: dict | None, prefix: str,
                  src: Source) -> list[tuple[str, str, dict, Path]]:
        """(flattened name, module, parameter values, path) of each instance a body lists,
        `count` expanded into NAME.0, NAME.1, …"""
        out, seen = [], set()
        if not isinstance(raw, list):
            raise src.fail(path, f"must be a list of {{module, name, count, params}}, got {raw!r}")
        for i, item in enumerate(raw):
            where = path + (i,)
            if not isinstance(item, dict):
                raise src.fail(where, f"must be a mapping {{module, name, count, params}}, "
                                      f"got {item!r}")
            src.check_keys(item, where, INSTANCE_KEYS, required=["module", "name"])
            if _refers(item["module"]) or _refers(item["name"]):
                raise src.fail(where, "an instance's module and name are written out, not "
                                      "parameters")
            item = substitute(item, values, where, src)
            name, of = item["name"], item["module"]
            if not isinstance(of, str) or of not in self.modules:
                raise src.fail(where + ("module",), unknown_name("module", of, self.modules))
            if not isinstance(name, str) or not NAME_RE.match(name):
                raise src.fail(where + ("name",), f"instance name must use letters, digits, - "
                                                  f"and _ only (dots join an instance to what "
                                                  f"it holds), got {name!r}")
            if name in seen:
                raise src.fail(where + ("name",), f"duplicate instance name {name!r}")
            seen.add(name)
            count = None
            if "count" in item:
                count = integer(item["count"], where + ("count",), src, minimum=1,
                                maximum=MAX_ENTRIES)
            given = item.get("params", {})
            if not isinstance(given, dict):
                raise src.fail(where + ("params",), f"must be a mapping of parameter -> value, "
                                                    f"got {given!r}")
            declared = self.modules[of].get("params", {})
            src.check_keys(given, where + ("params",), list(declared))
            chosen = {**declared, **given}
            for key, value in chosen.items():
                if value is None:
                    raise src.fail(where, f"module {of} needs a value for parameter {key!r} "
                                          f"(it has no default)")
            names = [name] if count is None else [f"{name}.{k}" for k in range(count)]
            self._count(len(names), where, src)
            out += [(prefix + n, of, chosen, where) for n in names]
        return out

    def instance(self, name: str, module: str, values: dict, path: Path) -> Fragment:
        """Flatten one instance: its own populations, its instances, then its own projections,
        probes and currents, whose names are checked against what the body can see."""
        src, body = InstanceSource(self.src.file, self.src.lines, instance=name), \
            self.modules[module]
        base, prefix, frag = ("modules", module), name + ".", Fragment()
        for local, spec in body.get("populations", {}).items():
            where = base + ("populations", local)
            if not isinstance(local, str) or not NAME_RE.match(local):
                raise src.fail(where, f"a module's population has a plain name (letters, "
                                      f"digits, - and _; dots join an instance to what it "
                                      f"holds), got {local!r}")
            frag.populations.append((prefix + local, substitute(spec, values, where, src),
                                     where, name))
        self._count(len(frag.populations), path, self.src)
        own_pops = [p[0] for p in frag.populations]
        children = []
        for found in self.instances(body.get("instances", []), base + ("instances",), values,
                                    prefix, src):
            if found[0] in own_pops:
                raise src.fail(found[3] + ("name",), f"{found[0][len(prefix):]} is both a "
                                                     f"population and an instance of module "
                                                     f"{module}")
            children.append(self.instance(*found))
        visible = {n[len(prefix):] for n in own_pops} | {
            p[0][len(prefix):] for child in children for p in child.populations}
        for kind in LISTS:
            items = body.get(kind, [])
            self._count(len(items), path, self.src)
            keys = ("pre", "post") if kind == "projections" else ("population",)
            taken: set = set()
            for j, item in enumerate(items):
                where = base + (kind, j)
                item = substitute(item, values, where, src)
                if isinstance(item, dict):
                    item = _scoped(item, keys, visible, prefix, where, src)
                    if kind == "projections" and all(isinstance(item.get(k), str) for k in keys):
                        local = item["name"] if "name" in item else default_projection_name(
                            item["pre"][len(prefix):], item["post"][len(prefix):], j, taken)
                        if isinstance(local, str):  # else the loader says what is wrong
                            taken.add(local)
                            item["name"] = prefix + local
                frag.lists[kind].append((item, where, name))
        own_projections = tuple(spec["name"] for spec, _, _ in frag.lists["projections"]
                                if isinstance(spec, dict) and isinstance(spec.get("name"), str))
        for child in children:
            frag.populations += child.populations
            for kind in LISTS:
                frag.lists[kind] += child.lists[kind]
        frag.node = ModuleInstance(name=name, module=module, params=values,
                                   populations=tuple(own_pops), projections=own_projections,
                                   children=tuple(c.node for c in children),
                                   location=src.location(path))
        return frag

    def _count(self, n: int, path: Path, src: Source) -> None:
        self.made += n
        if self.made > MAX_ENTRIES:
            raise src.fail(path, f"the modules flatten to more than {MAX_ENTRIES:,} "
                                      f"populations, projections, probes, currents and "
                                      f"instances: write such a network with fewer, larger "
                                      f"populations")


def _scoped(item: dict, keys, visible: set, prefix: str, where: Path, src: Source) -> dict:
    """The entry with its population names made flat; a name the body cannot see (not its
    own, not inside one of its instances) is an error in the module's terms."""
    item = dict(item)
    for key in keys:
        ref = item.get(key)
        if isinstance(ref, str):
            if ref not in visible:
                raise src.fail(where + (key,), unknown_name("population", ref, sorted(visible)))
            item[key] = prefix + ref
    return item


def substitute(value: object, values: dict | None, path: Path, src: Source) -> object:
    """A copy of `value` with every string "$name" replaced by the parameter's value."""
    if isinstance(value, str) and value.startswith("$"):
        if values is None:
            raise src.fail(path, f"{value!r} names a module parameter, but this is outside any "
                                 f"module")
        if value[1:] not in values:
            raise src.fail(path, unknown_name("parameter", value[1:], list(values)))
        return values[value[1:]]
    if isinstance(value, dict):
        return {k: substitute(v, values, path + (k,), src) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, values, path + (i,), src) for i, v in enumerate(value)]
    return value


def _names(items: list) -> list[str]:
    """The names the loader gives the top level's own projections (DESIGN §4.4)."""
    taken: list = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("pre"), str) \
                and isinstance(item.get("post"), str):
            name = item["name"] if "name" in item else default_projection_name(
                item["pre"], item["post"], i, set(taken))
            taken.append(name)
    return [n for n in taken if isinstance(n, str)]
