"""The Potjans & Diesmann (2014) cortical microcircuit on nmcompile's backends.

    .venv/bin/python examples/microcircuit/run.py                  # scale 0.1, brian2 + emulator
    .venv/bin/python examples/microcircuit/run.py --columns 3      # three columns, long-range L2/3E
    .venv/bin/python examples/microcircuit/run.py --drive dc --k-scale 1 --backends emulator
    .venv/bin/python examples/microcircuit/run.py --write-models   # the two .yaml model files

Builds the network with the builder (microcircuit.py holds the model), runs each backend,
prints the mean rate of each population (spikes in 500–1500 ms per neuron) beside NEST's
full-scale reference, the wall time of the build and of each run, and draws a raster (a
subsample of each population, the last 100 ms) and a bar chart of the rates.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import microcircuit as mcm  # noqa: E402  (the model, beside this script)
from nmcompile import NetworkBuilder, driver  # noqa: E402

WARMUP_MS, WINDOW_MS = 500.0, 1000.0
RASTER_MS = 100.0
RASTER_ROWS = 3000  # neurons drawn at most, all populations of all columns together
# long-range projections of the multi-column variant: L2/3E of every column onto L2/3E and
# L5E of every other one (Potjans & Diesmann's cortico-cortical input arrives in these layers)
LONG_RANGE_TARGETS = ("L23E", "L5E")
LONG_RANGE_FRACTION = 0.1  # of a target's external indegree, split among the other columns
LONG_RANGE_DELAY_MS = 3.0  # mean; SD half of it, as within a column
MAX_DELAY_MS = 6.4  # the loihi2 target's longest delay, 64 steps: longer draws are redrawn


def column_prefixes(columns: int) -> list[str]:
    """Instance name of each column: "col" alone, "col.0", "col.1", … for several."""
    return ["col"] if columns == 1 else [f"col.{k}" for k in range(columns)]


def population_name(prefix: str, pop: str) -> str:
    return f"{prefix}.{pop}"


def long_range(mc: mcm.Microcircuit, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """(synapses of one long-range projection onto each target population, bias taken off
    each target population).

    Each target neuron receives LONG_RANGE_FRACTION of its external indegree from the L2/3E of
    the other columns together, as excitatory synapses of the external weight. So that a
    column's mean input stays that of a lone column, its bias loses what these synapses carry
    at L2/3E's reference rate: part of the background now comes from the other columns."""
    k_total = LONG_RANGE_FRACTION * mc.ext_indegrees
    synapses = np.round(k_total / (columns - 1) * mc.sizes).astype(int)
    source = mcm.POPULATIONS.index("L23E")
    psc = mcm.PSP_MEAN * mcm.nest_psc_over_psp() / np.sqrt(mc.k_scaling)
    mean_pa = k_total * mcm.REFERENCE_RATES[source] * psc * mcm.TAU_SYN * 0.001
    targeted = np.isin(mcm.POPULATIONS, LONG_RANGE_TARGETS)
    return synapses * targeted, mcm.dc_to_bias(mean_pa, mc.dt) * targeted


def build(mc: mcm.Microcircuit, columns: int, steps: int, seed: int = 1) -> NetworkBuilder:
    """The builder of `columns` instances of module "microcircuit" (long-range projections
    between them if more than one). The module's parameters are the biases of its
    populations, bias_L23E … bias_L6I, by default those of a lone column."""
    b = NetworkBuilder("microcircuit" if columns == 1 else "multicolumn", dt=mc.dt,
                       steps=steps, seed=seed)
    module = b.module("microcircuit", params={f"bias_{pop}": float(value)
                                              for pop, value in zip(mcm.POPULATIONS, mc.bias)})
    mcm.column(module, mc, bias={pop: f"$bias_{pop}" for pop in mcm.POPULATIONS})
    if columns == 1:
        b.instance("microcircuit", "col")
        return b
    lr_synapses, lr_bias = long_range(mc, columns)
    lowered = {f"bias_{pop}": float(mc.bias[k] - lr_bias[k])
               for k, pop in enumerate(mcm.POPULATIONS) if lr_bias[k]}
    b.instance("microcircuit", "col", count=columns, params=lowered)
    weight = mcm.weight(mc.ext_weight)
    delay = {"normal_ms": [LONG_RANGE_DELAY_MS, mcm.DELAY_REL_SD * LONG_RANGE_DELAY_MS],
             "min_ms": mc.dt, "max_ms": MAX_DELAY_MS}
    prefixes = column_prefixes(columns)
    for src in prefixes:
        for dst in prefixes:
            for k, target in enumerate(mcm.POPULATIONS):
                if src != dst and lr_synapses[k]:
                    b.connect(f"{src}.L23E", f"{dst}.{target}",
                              {"fixed_total_number": int(lr_synapses[k])}, weight=weight,
                              delay=delay)
    return b


def window(steps: int, dt: float) -> tuple[int, int]:
    """Steps [first, last) over which rates are measured: WARMUP_MS … WARMUP_MS + WINDOW_MS,
    cut at the end of the run; a run no longer than the warm-up skips its first third."""
    first = int(round(WARMUP_MS / dt))
    if steps <= first:
        first = steps // 3
    return first, min(steps, first + int(round(WINDOW_MS / dt)))


def rates(result, mc: mcm.Microcircuit, columns: int) -> np.ndarray:
    """Mean rate (Hz) of each population of each column, [column, population]: spikes in the
    window per neuron per second."""
    first, last = window(result.meta["steps"], mc.dt)
    seconds = (last - first) * mc.dt / 1000.0
    out = np.zeros((columns, len(mcm.POPULATIONS)))
    for c, prefix in enumerate(column_prefixes(columns)):
        for k, pop in enumerate(mcm.POPULATIONS):
            fired = result.spikes[population_name(prefix, pop)][0]
            out[c, k] = np.count_nonzero((fired >= first) & (fired < last)) / mc.sizes[k] / seconds
    return out


def print_rates(measured: dict[str, np.ndarray], columns: int) -> None:
    """One line per population: each backend's rate (mean over columns; min–max across
    columns when there are several) and NEST's reference."""
    names = list(measured)
    print(f"\n{'population':10s}" + "".join(f"{n:>22s}" for n in names) + f"{'NEST (full)':>14s}")
    for k, pop in enumerate(mcm.POPULATIONS):
        cells = []
        for n in names:
            col = measured[n][:, k]
            spread = f" ({col.min():.2f}–{col.max():.2f})" if columns > 1 else ""
            cells.append(f"{col.mean():8.3f}{spread}")
        print(f"{pop:10s}" + "".join(f"{c:>22s}" for c in cells)
              + f"{mcm.REFERENCE_RATES[k]:14.3f}")
    print("rates in Hz")


def draw_raster(results: dict, mc: mcm.Microcircuit, columns: int, out: Path) -> None:
    """One panel per backend: the last RASTER_MS of the run, the same subsample of every
    population, L2/3 on top, excitatory dark and inhibitory light as in NEST's figure."""
    from matplotlib.figure import Figure

    steps = next(iter(results.values())).meta["steps"]
    t0 = max(0, steps - int(round(RASTER_MS / mc.dt)))
    every = max(1, int(np.ceil(mc.sizes.sum() * columns / RASTER_ROWS)))
    fig = Figure(figsize=(5 * len(results), 7))
    for p, (backend, result) in enumerate(results.items()):
        ax = fig.add_subplot(1, len(results), p + 1)
        row, ticks = 0, []
        for c, prefix in enumerate(column_prefixes(columns)):
            for k, pop in enumerate(mcm.POPULATIONS):
                fired, neuron = result.spikes[population_name(prefix, pop)]
                keep = (fired >= t0) & (neuron % every == 0)
                ax.plot(fired[keep] * mc.dt, -(row + neuron[keep] // every), ".", markersize=1,
                        color="#1f3b73" if pop.endswith("E") else "#d0743c")
                shown = int(np.ceil(mc.sizes[k] / every))
                ticks.append((-(row + shown / 2), pop if columns == 1 else f"{prefix} {pop}"))
                row += shown
        ax.set_yticks([y for y, _ in ticks], [label for _, label in ticks], fontsize=7)
        ax.set_xlim(t0 * mc.dt, steps * mc.dt)
        ax.set_ylim(-row, 1)
        ax.set_xlabel("t (ms)")
        ax.set_title(backend)
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(f"{'microcircuit' if columns == 1 else f'{columns} columns'}, scale "
                 f"N {mc.n_scaling:g}, K {mc.k_scaling:g}, drive {mc.drive}: "
                 f"{'every neuron' if every == 1 else f'one neuron in {every}'}", fontsize=11)
    fig.savefig(out, dpi=110, bbox_inches="tight")


def draw_rates(measured: dict[str, np.ndarray], mc: mcm.Microcircuit, steps: int,
               out: Path) -> None:
    """Bars per population: NEST's full-scale reference, then each backend (mean over columns,
    whiskers min–max across columns)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4))
    ax = fig.add_subplot()
    x = np.arange(len(mcm.POPULATIONS))
    width = 0.8 / (len(measured) + 1)
    ax.bar(x, mcm.REFERENCE_RATES, width, label="NEST, full scale", color="0.6")
    for i, (backend, r) in enumerate(measured.items()):
        mean = r.mean(axis=0)
        spread = np.vstack([mean - r.min(axis=0), r.max(axis=0) - mean]) if len(r) > 1 else None
        ax.bar(x + (i + 1) * width, mean, width, yerr=spread, label=backend, color=f"C{i}")
    ax.set_xticks(x + width * len(measured) / 2, mcm.POPULATIONS)
    ax.set_ylabel("rate (Hz)")
    first, last = window(steps, mc.dt)
    ax.set_title(f"mean rates, {first * mc.dt:g}–{last * mc.dt:g} ms; scale N "
                 f"{mc.n_scaling:g}, K {mc.k_scaling:g}, drive {mc.drive}", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.savefig(out, dpi=110, bbox_inches="tight")


def write_models(mc: mcm.Microcircuit, steps: int, columns: int, seed: int) -> None:
    """The builder's documents as model files: one column, and `columns` columns (3 unless
    --columns says more than one)."""
    for n, name in ((1, "microcircuit"), (columns if columns > 1 else 3, "multicolumn")):
        path = HERE / f"{name}.yaml"
        with open(path, "w") as f:
            yaml.safe_dump(build(mc, n, steps, seed).doc, f, sort_keys=False)
        print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1,
                        help="N_scaling: fraction of the neurons (default 0.1)")
    parser.add_argument("--k-scale", type=float, default=None,
                        help="K_scaling: fraction of the indegrees, weights ÷ √K and the lost "
                             "mean as DC (default: --scale, as NEST's example)")
    parser.add_argument("--drive", choices=mcm.DRIVES, default="poisson",
                        help="background: one Poisson source per neuron (default) or its mean "
                             "as DC")
    parser.add_argument("--backends", "--backend", default="brian2,emulator",
                        help="comma-separated (default brian2,emulator)")
    parser.add_argument("--columns", type=int, default=1,
                        help="microcircuits, with long-range L2/3E projections (default 1)")
    parser.add_argument("--steps", type=int, default=15000,
                        help="steps of 0.1 ms (default 15000: 500 ms warm-up + 1 s measured)")
    parser.add_argument("--seed", type=int, default=1,
                        help="seed of every draw: connectivity, weights, delays, v_init, "
                             "Poisson spikes (default 1)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="figure stem: STEM_raster.png, STEM_rates.png (default "
                             "examples/microcircuit/microcircuit or …/multicolumn)")
    parser.add_argument("--write-models", action="store_true",
                        help="write microcircuit.yaml and multicolumn.yaml (at the scale, "
                             "drive, steps and seed given) and stop")
    args = parser.parse_args(argv)
    if args.columns < 1:
        parser.error("--columns must be at least 1")
    k_scale = args.scale if args.k_scale is None else args.k_scale
    try:
        mc = mcm.derive(args.scale, k_scale, args.drive)
    except ValueError as e:
        parser.error(str(e))
    if args.write_models:
        write_models(mc, args.steps, args.columns, args.seed)
        return 0
    t = time.perf_counter()
    net = build(mc, args.columns, args.steps, args.seed).build(str(HERE))
    print(f"built {net.n_neurons:,} neurons ({mc.sizes.sum() * args.columns:,} LIF), "
          f"{net.n_synapses:,} synapses after merging multapses in {len(net.projections)} "
          f"projections, in {time.perf_counter() - t:.1f} s")
    results, measured = {}, {}
    for backend in args.backends.split(","):
        t = time.perf_counter()
        results[backend] = driver.run(net, backend)
        print(f"{backend}: {args.steps} steps in {time.perf_counter() - t:.1f} s", flush=True)
        measured[backend] = rates(results[backend], mc, args.columns)
    print_rates(measured, args.columns)
    stem = args.output or HERE / ("microcircuit" if args.columns == 1 else "multicolumn")
    raster, bars = (Path(f"{stem}_{kind}.png") for kind in ("raster", "rates"))
    draw_raster(results, mc, args.columns, raster)
    draw_rates(measured, mc, args.steps, bars)
    print(f"wrote {raster}, {bars}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
