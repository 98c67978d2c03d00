"""Parity checks for users' own test suites: `assert_parity` and the pytest plugin (plugin.py).

    from nmcompile.testing import assert_parity
    def test_my_model():
        assert_parity("models/my_model.yaml")      # all four backends, DESIGN §3 contract

Kept free of heavy imports: pytest loads this package in every session once nmcompile is installed.
"""
from __future__ import annotations

import os


def assert_parity(model, backends=None, *, steps: int | None = None, target: str | None = None,
                  tolerance=None, options: dict | None = None):
    """Run `model` (a path to a model file or a Network) on each backend and check every pair.

    Raises AssertionError carrying the parity table on any violation; returns the
    ParityReport otherwise (pairs with an uninstalled backend are reported as skipped).
    """
    from nmcompile.ir import Network
    from nmcompile.parity import DEFAULT_BACKENDS, check_parity
    from nmcompile.parity.compare import Tolerance
    from nmcompile.parity.report import format_table
    if isinstance(model, Network):
        net = model
    else:
        from nmcompile.frontends.modelfile import load_model
        net = load_model(os.fspath(model))
    report = check_parity(net, list(backends or DEFAULT_BACKENDS), steps=steps, target=target,
                          tolerance=tolerance or Tolerance(), options=options)
    if not report.ok:
        raise AssertionError(f"parity violated for {net.name}\n{format_table(report)}")
    return report


__all__ = ["assert_parity"]
