"""YAML (and JSON) documents with the line of every value, for `file:line: path: message` errors."""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field

import yaml

from nmcompile.diagnostics import InputError, error
from nmcompile.ir import Location

Path = tuple  # keys and indices from the document root, e.g. ("projections", 1, "delay")


def path_text(path: Path) -> str:
    """("projections", 1, "delay") -> "projections[1].delay"."""
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


@dataclass
class Source:
    """Where a document came from and the line of each of its values (missing paths use the parent's)."""

    file: str
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        path = tuple(path)
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def location(self, path: Path) -> Location:
        return Location(self.file, self.line(path), path_text(path) or None)

    def fail(self, path: Path, message: str) -> InputError:
        """The error to raise for the value at `path`."""
        return error(message, self.location(path))

    def check_keys(self, mapping: dict, path: Path, allowed: list[str], required: list[str] = ()):
        """Unknown keys are errors with a did-you-mean; missing required keys name the mapping."""
        for key in mapping:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
                raise self.fail(path + (key,), f"unknown key {key!r}{hint}")
        for key in required:
            if key not in mapping:
                raise self.fail(path, f"missing required key {key!r}")


def parse(text: str, file: str) -> tuple[object, Source]:
    """Parse YAML 1.1 (JSON is accepted as YAML) into plain Python values plus their lines."""
    source = Source(file)
    try:
        _refuse_deep_nesting(text, file)
        node = yaml.compose(text, Loader=_LOADER)
    except RecursionError:  # a nesting the pre-scan under-estimated (brackets in strings)
        raise error(f"nested deeper than {MAX_DEPTH} levels", Location(file)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"not valid YAML/JSON: {exc.problem or exc}"
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            message += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        raise error(message, Location(file, line)) from None
    if node is None:
        raise error("the file is empty", Location(file, 1))
    return _values(node, source), source


MAX_DEPTH = 100  # lists and mappings in lists and mappings; a model needs fewer than ten
_FLOW = re.compile(r"(?:(?<=\s)|^)#[^\n]*|\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'|[\[\]{}]", re.M)
_BLOCK_LINE = re.compile(r"^( *)((?:- +)*)", re.M)


def _refuse_deep_nesting(text: str, file: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH before the (recursive) composer sees
    them: 50,000 levels overflow the C stack of libyaml's composer, not just Python's.

    A cheap scan bounds the depth from brackets and indentation; only above the limit are
    the parser's (iterative) events counted, so brackets inside strings are no false alarm."""
    flow = deepest_flow = 0
    for m in _FLOW.finditer(text):
        token = m.group()
        if token in "[{":
            flow += 1
            deepest_flow = max(deepest_flow, flow)
        elif token in "]}":
            flow = max(0, flow - 1)
    indents: list[int] = []
    deepest_block = 0
    for m in _BLOCK_LINE.finditer(text):
        indent = len(m.group(1))
        while indents and indents[-1] >= indent:
            indents.pop()
        indents.append(indent)
        deepest_block = max(deepest_block, len(indents) + m.group(2).count("-"))
    if deepest_flow + deepest_block <= MAX_DEPTH:
        return
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise error(f"nested deeper than {MAX_DEPTH} levels",
                            Location(file, event.start_mark.line + 1))
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


# YAML 1.1 reads 1e3 and 2.5E-4 as strings; YAML 1.2 and JSON read them as floats, and so do we.
# The dumper shares the rule, so a string such as "1e3" is written quoted and read back a string.
_FLOAT_12 = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$")


class _LOADER(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # the C parser when libyaml is there
    """Safe YAML 1.1 plus YAML 1.2 exponent floats."""


class DUMPER(yaml.SafeDumper):
    """Safe YAML dumper that quotes whatever _LOADER would not read back as the same string."""


for _cls in (_LOADER, DUMPER):
    _cls.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))


def _scalar(node: yaml.ScalarNode, where: Location) -> object:
    """Construct one scalar (int, float, bool, str, null) from its resolved tag."""
    if node.tag == "tag:yaml.org,2002:merge":
        raise error("YAML merge keys (<<) are not supported; write the keys out", where)
    try:
        return yaml.constructor.SafeConstructor().construct_object(node)
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # e.g. !!float "abc", !!python/...
        raise error(f"cannot read {node.value!r} as {node.tag.replace('tag:yaml.org,2002:', '!!')}: "
                    f"{getattr(exc, 'problem', None) or exc}", where) from None


def _node_count(root: yaml.Node) -> int:
    """Distinct nodes of the composed graph (an alias is the same node object again)."""
    seen, todo = set(), [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            todo.extend(n for pair in node.value for n in pair)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
    return len(seen)


def _values(root: yaml.Node, source: Source) -> object:
    """Expand the graph; aliases may repeat a part, but not blow the document up ("billion laughs")."""
    budget = [10 * _node_count(root) + 100_000]
    return _value(root, (), source, budget)


def _value(node: yaml.Node, path: Path, source: Source, budget: list) -> object:
    source.lines[path] = node.start_mark.line + 1
    budget[0] -= 1
    if budget[0] < 0:
        raise error("aliases expand this document past ten times its size; write it out plainly",
                    source.location(path))
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            where = Location(source.file, key_node.start_mark.line + 1, path_text(path) or None)
            key = _scalar(key_node, where) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                shown = repr(key_node.value) if isinstance(key_node, yaml.ScalarNode) else \
                    ("a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping")
                raise error(f"keys must be strings, got {shown}", where)
            if key in out:
                raise error(f"duplicate key {key!r}",
                            Location(source.file, key_node.start_mark.line + 1,
                                     path_text(path + (key,))))
            out[key] = _value(value_node, path + (key,), source, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_value(item, path + (i,), source, budget) for i, item in enumerate(node.value)]
    value = _scalar(node, source.location(path))
    if isinstance(value, float) and math.isnan(value):
        raise error("NaN is not allowed", source.location(path))
    return value
