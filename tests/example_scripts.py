"""Importing an example's scripts in tests: each under a name of its own, since several
examples have a run.py."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(folder: str, name: str, file: str):
    """examples/<folder>/<file> as module `name` (registered, so that its own imports of a
    neighbour resolve to one copy)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / folder / file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
