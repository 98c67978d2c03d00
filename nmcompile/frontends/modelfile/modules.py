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
# values in the flattened document, each parameter value counted wherever it stands: a
# parameter passed down as ["$x", "$x"] doubles at each level, and the loader reads them all
MAX_VALUES = 20_000_000


@dataclass
class FlatSource(Source):
    """Lines of a flattened document: an entry that came from a module answers with the
    module's line and path, and names its instance."""

    origins: dict[Path, tuple[Path, str]] = field(default_factory=dict)
    params_at: dict[tuple[str, Path], str] = field(default_factory=dict)  # (instance, path) ->
    # the parameter whose value stands there, so that an error in it names the parameter

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
        param = next((self.params_at[(instance, where[:cut])] for cut in
                      range(len(where), 0, -1) if (instance, where[:cut]) in self.params_at), None)
        named = f"instance {instance}" + (f", parameter {param}" if param else "")
        return Location(self.file, Source.line(self, where), f"{path_text(where)} ({named})")


@dataclass
class InstanceSource(Source):
    """Lines of the file, for what goes wrong while one instance is flattened: the location
    names the instance."""

    instance: str = ""

    def location(self, path: Path) -> Location:
        where = Source.location(self, path)
        return Location(where.file, where.line, f"{where.path} (instance {self.instance})")


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
        for key in MODULE_KEYS[1:]:  # used or not, a module names only parameters it declares
            _check_references(body.get(key), params, path + (key,), src)
    check_nesting(raw, src)
    return raw


def _check_references(value: object, params: dict, path: Path, src: Source) -> None:
    if isinstance(value, str) and value.startswith("$") and value[1:] not in params:
        raise src.fail(path, f"no parameter named {value[1:]!r}: the module declares none"
                       if not params else unknown_name("parameter", value[1:], list(params)))
    if isinstance(value, dict):
        for key, inner in value.items():
            _check_references(inner, params, path + (key,), src)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            _check_references(inner, params, path + (i,), src)


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
@dataclass
class Found:
    """An instance as its body lists it: parameters resolved, `count` not yet expanded."""

    name: str
    count: int | None
    module: str
    values: dict
    path: Path

    @property
    def copies(self) -> int:
        return 1 if self.count is None else self.count

    @property
    def first(self) -> str:
        """The name of its first instance, for messages."""
        return self.name if self.count is None else f"{self.name}.0"

    def names(self, prefix: str) -> list[str]:
        """NAME, or NAME.0 … NAME.<count−1>, flattened under `prefix`."""
        return [prefix + self.name] if self.count is None else \
            [f"{prefix}{self.name}.{k}" for k in range(self.count)]


@dataclass
class Node:
    """An instance while the file is flattened; frozen into a ModuleInstance once every
    projection has its name."""

    name: str
    module: str
    values: dict
    populations: list
    projections: list   # its own projection entries (dicts), named at the end
    children: list
    location: Location

    def freeze(self) -> ModuleInstance:
        return ModuleInstance(name=self.name, module=self.module, params=self.values,
                              populations=tuple(self.populations),
                              projections=tuple(item["name"] for item in self.projections
                                                if isinstance(item, dict)
                                                and isinstance(item.get("name"), str)),
                              children=tuple(c.freeze() for c in self.children),
                              location=self.location)


class Flattener:
    """Expands instances depth first into shared lists, in the documented order, after
    working out from the module graph how much the file expands to."""

    def __init__(self, modules: dict[str, dict], src: Source):
        self.modules, self.src = modules, src
        self.populations: list = []  # (flattened name, spec, path in the file, instance)
        self.lists: dict = {kind: [] for kind in LISTS}  # (spec, path in the file, instance)
        self.named: set = set()      # projection names the file writes (flattened)
        self.unnamed: list = []      # (entry, local pre, local post, index, prefix, path, src)
        self.sizes: dict = {}        # (module, parameter values) -> (entries, the values)
        self.params_at: dict = {}    # (instance, path in the file) -> parameter standing there
        self.counted: dict = {}      # id of a list or mapping -> values in it, each counted

    def top(self, doc: dict) -> tuple[dict, FlatSource, ModuleInstance]:
        src = self.src
        own_pops = doc.get("populations", {})
        if not isinstance(own_pops, dict):
            raise src.fail(("populations",), "must be a mapping of name -> population")
        own = {kind: doc.get(kind, []) for kind in LISTS}
        for kind, items in own.items():
            if not isinstance(items, list):
                raise src.fail((kind,), f"must be a list, got {items!r}")
        found = self.instances(doc.get("instances", []), ("instances",), None, src)
        self.check_size(found, len(own_pops) + sum(map(len, own.values())))
        for f in found:
            if f.name in own_pops:
                raise src.fail(f.path + ("name",), f"{f.name} is both a population and an "
                                                   f"instance")
        children = [self.instance(name, f.module, f.values, f.path)
                    for f in found for name in f.names("")]
        self.name_the_rest(set(_names(own["projections"])))
        flat = {key: value for key, value in doc.items() if key not in TOP_KEYS}
        flat["populations"], origins = dict(own_pops), {}
        for name, spec, path, instance in self.populations:
            if name in flat["populations"]:
                raise src.fail(path, f"population {name} (instance {instance}) is also declared "
                                     f"at the top level (line {src.line(('populations', name))})")
            flat["populations"][name] = spec
            origins[("populations", name)] = (path, instance)
        for kind in LISTS:
            flat[kind] = list(own[kind])
            for spec, path, instance in self.lists[kind]:
                origins[(kind, len(flat[kind]))] = (path, instance)
                flat[kind].append(spec)
        values = 0
        for spec, path, instance in [(spec, path, inst) for _, spec, path, inst in
                                     self.populations] + [e for k in LISTS for e in self.lists[k]]:
            values += self._values(spec)
            if values > MAX_VALUES:
                raise InstanceSource(src.file, src.lines, instance=instance).fail(
                    path, f"the file flattens to more than {MAX_VALUES:,} values: a parameter "
                          f"passed down doubles, or large values stand in many instances")
        root = ModuleInstance(name="", module="", populations=tuple(own_pops),
                              projections=tuple(_names(own["projections"])),
                              children=tuple(c.freeze() for c in children),
                              location=src.location(()))
        return flat, FlatSource(src.file, src.lines, origins, self.params_at), root

    def check_size(self, found: list[Found], own: int) -> None:
        """Refuse, before expanding anything, a file that flattens to more than MAX_ENTRIES."""
        total = own
        for f in found:
            total += f.copies * (1 + self.size(f.module, f.values, f.first))
            if total > MAX_ENTRIES:
                raise self.src.fail(f.path, f"the file flattens to more than {MAX_ENTRIES:,} "
                                            f"populations, projections, probes, currents and "
                                            f"instances: write such a network with fewer, "
                                            f"larger populations")

    def size(self, module: str, values: dict, name: str) -> int:
        """Entries one instance flattens to, itself not counted (once per module and
        parameter values); the count stops soon after it passes MAX_ENTRIES."""
        # values by identity: a parameter passed down is the same object at every level (a
        # repr could be as large as the values it prints); the memo keeps them alive
        key = (module, tuple((k, id(v)) for k, v in values.items()))
        if key not in self.sizes:
            body = self.modules[module]
            src = InstanceSource(self.src.file, self.src.lines, instance=name)
            n = len(body.get("populations", {})) + sum(len(body.get(k, [])) for k in LISTS)
            for f in self.instances(body.get("instances", []), ("modules", module, "instances"),
                                    values, src):
                n += f.copies * (1 + self.size(f.module, f.values, f"{name}.{f.first}"))
                if n > MAX_ENTRIES:
                    break
            self.sizes[key] = (n, values)
        return self.sizes[key][0]

    def instances(self, raw: object, path: Path, values: dict | None,
                  src: Source) -> list[Found]:
        """Each instance a body lists, checked, with its parameter values."""
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
                if self._values(value) > MAX_VALUES:
                    raise src.fail(where + ("params", key), f"the value of parameter {key!r} "
                                                            f"is more than {MAX_VALUES:,} values")
            out.append(Found(name, count, of, chosen, where))
        return out

    def instance(self, name: str, module: str, values: dict, path: Path) -> Node:
        """Flatten one instance: its own populations, projections, probes and currents, then
        its instances'; own entries are checked against what the body can see at the end."""
        src, body = InstanceSource(self.src.file, self.src.lines, instance=name), \
            self.modules[module]
        base, prefix, start = ("modules", module), name + ".", len(self.populations)
        for local, spec in body.get("populations", {}).items():
            where = base + ("populations", local)
            if not isinstance(local, str) or not NAME_RE.match(local):
                raise src.fail(where, f"a module's population has a plain name (letters, "
                                      f"digits, - and _; dots join an instance to what it "
                                      f"holds), got {local!r}")
            self.populations.append((prefix + local, self._substitute(spec, values, where, name),
                                     where, name))
        own_pops = [entry[0] for entry in self.populations[start:]]
        found = self.instances(body.get("instances", []), base + ("instances",), values, src)
        for f in found:
            if f.name in body.get("populations", {}):
                raise src.fail(f.path + ("name",), f"{f.name} is both a population and an "
                                                   f"instance of module {module}")
        own: dict = {kind: [] for kind in LISTS}
        for kind in LISTS:
            for j, item in enumerate(body.get(kind, [])):
                where = base + (kind, j)
                item = self._substitute(item, values, where, name)
                if isinstance(item, dict):  # a copy: a parameter's mapping is shared
                    item = dict(item)
                    if kind == "projections":
                        self._name(item, j, prefix, where, src)
                own[kind].append((item, where))
                self.lists[kind].append((item, where, name))
        children = [self.instance(inner, f.module, f.values, f.path)
                    for f in found for inner in f.names(prefix)]
        visible = {entry[0][len(prefix):] for entry in self.populations[start:]}
        for kind, items in own.items():
            keys = ("pre", "post") if kind == "projections" else ("population",)
            for item, where in items:
                if isinstance(item, dict):
                    _scope(item, keys, visible, prefix, where, src)
                    _scope_learning(kind, item, visible, prefix, where, src)
        return Node(name=name, module=module, values=values, populations=own_pops,
                    projections=[item for item, _ in own["projections"]], children=children,
                    location=src.location(path))

    def _name(self, item: dict, index: int, prefix: str, where: Path, src: Source) -> None:
        """A name the file writes, prefixed; an entry without one waits for name_the_rest."""
        if "name" in item:
            if isinstance(item["name"], str):  # else the loader says what is wrong
                item["name"] = prefix + item["name"]
                self.named.add(item["name"])
        elif isinstance(item.get("pre"), str) and isinstance(item.get("post"), str):
            self.unnamed.append((item, item["pre"], item["post"], index, prefix, where, src))

    def name_the_rest(self, top_level: set) -> None:
        """Default names, in flat order: PRE_to_POST from the local names, prefixed;
        `_<index>` (its index in its body) when the top level, a name the file writes or an
        earlier default already has it (§4.4, §8.1)."""
        taken = top_level | self.named
        for item, pre, post, index, prefix, where, src in self.unnamed:
            name = prefix + default_projection_name(pre, post, index, ())
            if name in taken:
                name = f"{name}_{index}"
            if name in taken:
                raise src.fail(where, f"the default name {name!r} is taken by another "
                                      f"projection: give this one a name")
            item["name"] = name
            taken.add(name)

    def _values(self, value: object) -> int:
        """How many values `value` holds, each list or mapping counted once per place it
        stands (a shared one is counted once and remembered)."""
        if not isinstance(value, (list, dict)):
            return 1
        found = self.counted.get(id(value))
        if found is None:
            inner = value.values() if isinstance(value, dict) else value
            found = self.counted[id(value)] = (1 + sum(self._values(v) for v in inner), value)
        return found[0]

    def _substitute(self, value: object, values: dict, path: Path, instance: str) -> object:
        src = InstanceSource(self.src.file, self.src.lines, instance=instance)
        return substitute(value, values, path, src, lambda at, key:
                          self.params_at.__setitem__((instance, at), key))


def _scope(item: dict, keys, visible: set, prefix: str, where: Path, src: Source) -> None:
    """Make the entry's population names flat, in place; a name the body cannot see (not its
    own, not inside one of its instances) is an error in the module's terms."""
    for key in keys:
        ref = item.get(key)
        if isinstance(ref, str):
            if ref not in visible:
                raise src.fail(where + (key,), unknown_name("population", ref, sorted(visible))
                                + " (a module sees its own populations and those inside its "
                                  "instances)")
            item[key] = prefix + ref


def _scope_learning(kind: str, item: dict, visible: set, prefix: str, where: Path,
                    src: Source) -> None:
    """A projection's reward population is named as its pre and post are (§4.10); a weight
    probe's projection is one of the body's own or inside its instances: prefixed."""
    if kind == "projections" and isinstance(item.get("learning"), dict):
        item["learning"] = dict(item["learning"])  # a copy: a parameter's mapping is shared
        _scope(item["learning"], ("reward",), visible, prefix, where + ("learning",), src)
    if kind == "probes" and isinstance(item.get("projection"), str):
        item["projection"] = prefix + item["projection"]


def substitute(value: object, values: dict | None, path: Path, src: Source,
               noted=None) -> object:
    """A copy of `value` with every string "$name" replaced by the parameter's value;
    `noted(path, name)` hears where each substitution stands."""
    if isinstance(value, str) and value.startswith("$"):
        if values is None:
            raise src.fail(path, f"{value!r} names a module parameter, but this is outside any "
                                 f"module")
        if value[1:] not in values:
            raise src.fail(path, f"no parameter named {value[1:]!r}: the module declares none"
                           if not values else unknown_name("parameter", value[1:], list(values)))
        if noted is not None:
            noted(path, value[1:])
        return values[value[1:]]
    if isinstance(value, dict):
        return {k: substitute(v, values, path + (k,), src, noted) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, values, path + (i,), src, noted) for i, v in enumerate(value)]
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
