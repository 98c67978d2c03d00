"""Errors of the NIR front end, each one line naming the file and the node (docs/design.md §7).

Node-level code (a linear node's matrix, a neuron node's parameters) knows the node but not the
file: it raises NodeProblem with the message, and the graph layer, which knows both, turns it
into an InputError with node_error."""
from __future__ import annotations

from nmcompile.diagnostics import Diagnostic, InputError
from nmcompile.ir import Location

CODE = "NM701"


class NodeProblem(Exception):
    """What is wrong with one node, said without the file or the node's name."""


def node_error(file: str, name: str, node: object, message: str, code: str = CODE) -> InputError:
    """`FILE: node 'NAME' (TYPE): message`."""
    return InputError(Diagnostic("error", code, message,
                                 Location(file=str(file), path=f"node {name!r} ({type(node).__name__})")))


def file_error(file: str, message: str, code: str = "NM700") -> InputError:
    """`FILE: message`: about the whole file (it cannot be read, a choice is missing)."""
    return InputError(Diagnostic("error", code, message, Location(file=str(file))))
