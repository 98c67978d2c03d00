"""YAML (and JSON) documents with the line of every value, for `file:line: path: message` errors."""
from __future__ import annotations

import difflib
import math
import re
import sys
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
        _refuse_unprintable(text, file)
        _refuse_deep_nesting(text, file)
        node = yaml.compose(text, Loader=_LOADER)
    except RecursionError:  # a nesting the pre-scan under-estimated (brackets in strings)
        raise error(f"nested deeper than {MAX_DEPTH} levels", Location(file)) from None
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(exc, file) from None
    except (yaml.YAMLError, ValueError) as exc:  # e.g. a reader error the pre-scan missed
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        why = getattr(exc, "reason", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
        raise error(f"not valid YAML/JSON: {why}", Location(file, line)) from None
    if node is None:
        raise error("the file is empty", Location(file, 1))
    return _values(node, source), source


def _yaml_error(exc: yaml.MarkedYAMLError, file: str) -> InputError:
    """PyYAML's complaint as one located line; its own nesting limit speaks with our words."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    if _is_nesting_limit(exc):
        return error(f"nested deeper than {MAX_DEPTH} levels", Location(file, line))
    message = f"not valid YAML/JSON: {exc.problem or exc}"
    if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
        message += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
    return error(message, Location(file, line))


def _is_nesting_limit(exc: yaml.YAMLError) -> bool:
    """PyYAML 6.0.4's libyaml refuses flow or block nesting past its own limit (1,000 levels)."""
    return "nesting" in str(getattr(exc, "problem", None) or exc).lower()


# What YAML accepts as text (YAML 1.1 §5.1; JSON is stricter): tab, line breaks, printable
# ASCII, NEL and printable Unicode. The byte order mark (U+FEFF) lies within the last ranges.
_UNPRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD"
                          "\U00010000-\U0010FFFF]")


def _refuse_unprintable(text: str, file: str) -> None:
    """A NUL byte, another control character or a lone surrogate: PyYAML's reader refuses
    them too, but unlocated, as an exception of its own."""
    m = _UNPRINTABLE.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        column = m.start() - text.rfind("\n", 0, m.start())
        what = "a NUL byte" if m.group() == "\0" else f"the character U+{ord(m.group()):04X}"
        raise error(f"not valid YAML/JSON: {what} at column {column} (YAML and JSON files hold "
                    f"printable text only: a binary or damaged file?)", Location(file, line))


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
    try:
        _count_depth(text, file, _LOADER)
    except yaml.MarkedYAMLError as exc:
        if not _is_nesting_limit(exc):
            raise
        # libyaml stopped at its own limit, deeper than ours and maybe further down the file:
        # PyYAML's pure-Python parser (no limit of its own up to 6.0.4) finds the line where
        # ours is passed; should a later PyYAML limit it too, libyaml's error says where
        try:
            _count_depth(text, file, yaml.SafeLoader)
        except yaml.YAMLError:
            pass
        raise exc from None


def _count_depth(text: str, file: str, loader) -> None:
    """Follow the parser's (iterative) events; refuse at the first level past MAX_DEPTH."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
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
        value = yaml.constructor.SafeConstructor().construct_object(node)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:  # !!float "abc", ...
        if isinstance(exc, OverflowError) or (  # a base-60 float, an int of > 4,300 digits
                isinstance(exc, ValueError) and re.fullmatch(r"[-+]?[0-9_]+", node.value.strip())
                and node.tag.endswith((":int", ":float"))):
            raise error(f"{brief(node.value)} is beyond the range of float64 numbers (±1.8e308)",
                        where) from None
        raise error(f"cannot read {brief(repr(node.value))} as "
                    f"{node.tag.replace('tag:yaml.org,2002:', '!!')}: "
                    f"{brief(str(getattr(exc, 'problem', None) or exc), 160)}", where) from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_float64(value, node.value, where)
    return value


FLOAT64_MAX = sys.float_info.max
_INF_LITERAL = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")


def _check_float64(value: int | float, text: str, where: Location) -> None:
    """Every number must be a float64 as written: an integer or a float literal beyond
    ±1.8e308 (which YAML reads as inf), or a non-zero literal that underflows to 0, is an error
    here rather than an OverflowError, or a silent inf or 0, further on."""
    if isinstance(value, int):
        if abs(value) > FLOAT64_MAX:
            raise error(f"{brief(text)} is beyond the range of float64 numbers (±1.8e308)", where)
    elif math.isinf(value) and not _INF_LITERAL.match(text.strip()):
        raise error(f"{brief(text)} is beyond the range of float64 numbers (±1.8e308); "
                    f"write .inf for infinity", where)
    elif value == 0 and re.search("[1-9]", re.split("[eE]", text)[0]):
        raise error(f"{brief(text)} is too small for a float64 number (it would read as 0; "
                    f"the smallest is 5e-324)", where)


def brief(text: str, limit: int = 48) -> str:
    """`text` for a one-line message: a long value shortened, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit - 18]}…{text[-8:]} ({len(text):,} characters)"


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
                shown = brief(repr(key_node.value)) if isinstance(key_node, yaml.ScalarNode) else \
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
