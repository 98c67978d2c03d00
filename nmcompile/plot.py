"""Spike raster plot of a Result (`nmc run --plot`), drawn off-screen.

A bare matplotlib Figure (no pyplot) renders with Agg for raster formats and never touches
the caller's interactive backend.
"""
from __future__ import annotations

import os

import numpy as np

from nmcompile.diagnostics import Diagnostic, InputError
from nmcompile.files.atomic import atomic_output
from nmcompile.ir import Location, Network, source_spikes
from nmcompile.result import Result


def plot_format(path: str) -> str:
    """The image format named by the extension (the plot kind of nmcompile.files.outputs)."""
    from nmcompile.files.outputs import KINDS
    extensions = KINDS["plot"][0]
    fmt = os.path.splitext(path)[1].lower()
    if fmt not in extensions:
        raise InputError(Diagnostic("error", "NM501", f"unknown image format {fmt[1:]!r} for a "
                                    f"plot; use {', '.join(extensions)}", Location(file=path)))
    return fmt[1:]


def raster_plot(result: Result, net: Network, path: str) -> None:
    """One stacked raster of every population (sources from the IR, the rest from `result`).

    The format follows the file extension (.png, .pdf, .svg); the file is written to a
    temporary name in the same folder and renamed, so a reader never sees half a plot.
    """
    from matplotlib.figure import Figure

    fmt = plot_format(path)
    steps = int(result.meta.get("steps", net.steps))
    rows = [(pop, _spikes_of(pop, result, net, steps)) for pop in net.populations.values()]
    rows = [(pop, spikes) for pop, spikes in rows if spikes is not None]
    total = sum(pop.size for pop, _ in rows) or 1

    fig = Figure(figsize=(10, 2 + min(6, 0.02 * total + 0.5 * len(rows))))
    ax = fig.add_subplot()
    offset, ticks = 0, []
    for k, (pop, (t, n)) in enumerate(rows):
        ax.scatter(t, n + offset, s=max(0.5, 4 * (1 if total < 200 else 200 / total)),
                   marker="|" if total < 200 else ".", color=f"C{k % 10}", linewidths=0.8)
        ticks.append((offset + pop.size / 2, f"{pop.name}\n{len(t)} spikes"))
        offset += pop.size
        if k < len(rows) - 1:
            ax.axhline(offset - 0.5, color="0.8", linewidth=0.5)
    ax.set_xlim(-0.5, steps - 0.5)
    ax.set_ylim(max(offset, 1) - 0.5, -0.5)   # first population on top, as in the model file
    ax.set_yticks([y for y, _ in ticks], [label for _, label in ticks])
    ax.set_xlabel(f"step (dt = {net.dt:g} ms)")
    backend = result.meta.get("backend", "")
    ax.set_title(f"{net.name}" + (f" on {backend}" if backend else "") + f", {steps} steps")
    fig.tight_layout()
    _save_atomically(fig, path, fmt)


def _spikes_of(pop, result: Result, net: Network, steps: int):
    if pop.name in result.spikes:
        t, n = result.spikes[pop.name]
        return np.asarray(t), np.asarray(n)
    if pop.is_source:
        return source_spikes(pop, net, steps)
    return None


def _save_atomically(fig, path: str, fmt: str) -> None:
    with atomic_output(path) as fh:
        fig.savefig(fh, format=fmt, dpi=120)
