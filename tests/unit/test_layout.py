"""The package layout (DESIGN §1.1): every package is listed in pyproject.toml, every import of
nmcompile names a module that exists, the import graph between nmcompile's modules has no
cycle, and the IR depends on nothing else of nmcompile. Imports inside functions count too:
an import circle broken only by deferring one side is still a circle."""
from __future__ import annotations

import ast
import importlib.util
import pkgutil
from functools import lru_cache
from pathlib import Path

import networkx as nx
import tomli

ROOT = Path(__file__).resolve().parents[2]


def _listed_packages() -> list[str]:
    return tomli.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]


@lru_cache(maxsize=None)
def _modules() -> dict[str, Path]:
    """Every module of the installed packages: dotted name -> source file."""
    out = {}
    for package in _listed_packages():
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations, f"{package} is not installed"
        out[package] = Path(spec.origin)
        for info in pkgutil.iter_modules(spec.submodule_search_locations):
            if not info.ispkg:
                out[f"{package}.{info.name}"] = Path(info.module_finder.path) / f"{info.name}.py"
    return out


def _top_level_names(tree: ast.Module) -> set[str]:
    """Names a module defines or imports at its top level (also inside if/try blocks)."""
    names, todo = set(), list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            todo += [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", []),
                     *[s for h in getattr(node, "handlers", []) for s in h.body]]
    return names


@lru_cache(maxsize=None)
def _tree(module: str) -> ast.Module:
    return ast.parse(_modules()[module].read_text(), str(_modules()[module]))


def _imports(module: str) -> list[tuple[str, str | None, int]]:
    """(imported module, name taken from it or None, line) for every import of nmcompile in
    `module`, wherever it stands; `from package import submodule` counts as the submodule."""
    modules, out = _modules(), []
    is_package = modules[module].name == "__init__.py"
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names
                    if a.name.split(".")[0] == "nmcompile"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: level 1 is the module's own package (a package is its own)
                base = module.split(".")[: len(module.split(".")) - node.level + is_package]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            if source.split(".")[0] != "nmcompile":
                continue
            for alias in node.names:
                if f"{source}.{alias.name}" in modules:
                    out.append((f"{source}.{alias.name}", None, node.lineno))
                else:
                    out.append((source, alias.name, node.lineno))
    return out


def _graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for module in _modules():
        graph.add_node(module)
        for target, _, _ in _imports(module):
            graph.add_edge(module, target)
    return graph


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(_listed_packages())
    for package in listed:
        spec = importlib.util.find_spec(package)
        assert spec is not None, f"{package} is listed but not installed"
        for info in pkgutil.iter_modules(spec.submodule_search_locations):
            assert not info.ispkg or f"{package}.{info.name}" in listed, \
                f"{package}.{info.name} is missing from [tool.setuptools] packages"


def test_every_import_of_nmcompile_names_what_exists():
    modules, wrong = _modules(), []
    for module in modules:
        for target, name, line in _imports(module):
            if target not in modules:
                wrong.append(f"{modules[module]}:{line}: no module {target}")
            elif name is not None and name not in _top_level_names(_tree(target)) \
                    and "__getattr__" not in _top_level_names(_tree(target)):
                wrong.append(f"{modules[module]}:{line}: {target} has no {name}")
    assert not wrong, "\n".join(wrong)


def test_the_module_import_graph_has_no_cycle():
    cycles = sorted(" -> ".join([*c, c[0]]) for c in nx.simple_cycles(_graph()))
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_the_ir_imports_nothing_else_of_nmcompile():
    def in_ir(name: str) -> bool:
        return (name + ".").startswith("nmcompile.ir.")
    outside = sorted({f"{m} imports {t}" for m in _modules() if in_ir(m)
                      for t, _, _ in _imports(m) if not in_ir(t)})
    assert not outside, "\n".join(outside)


def test_the_folders_import_each_other_without_a_circle():
    """One level up: files/, frontends/, passes/, parity/, backends/, ... form no circle either
    (modules at the package's top, the driver and the CLI among them, may use any folder)."""
    def folder(name: str) -> str | None:
        parts = name.split(".")
        is_package = _modules()[name].name == "__init__.py" if name in _modules() else False
        return ".".join(parts[:2]) if len(parts) > 2 or (len(parts) == 2 and is_package) \
            else None
    folders = nx.DiGraph()
    for module, target in _graph().edges:
        a, b = folder(module), folder(target)
        if a and b and a != b:
            folders.add_edge(a, b)
    cycles = sorted(" -> ".join([*c, c[0]]) for c in nx.simple_cycles(folders))
    assert not cycles, "folder circles:\n" + "\n".join(cycles)
