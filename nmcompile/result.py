"""One result format for every backend (DESIGN §1), saved as .npz and loadable back."""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field

import numpy as np

from nmcompile.files.atomic import atomic_output
from nmcompile.files.strictjson import dumps

WEIGHT, WEIGHT_TRACE = "weight", "weight_trace"   # array names of a projection's weights


@dataclass(kw_only=True)
class Result:
    """Spikes per population as (step, neuron) arrays sorted by step then neuron,
    probed traces as (steps × neurons) arrays keyed (population, var), and metadata.

    A plastic projection's weights at the end of the run are `weights[projection]`, one per
    synapse in the projection's order; a weight probe's samples are
    `weight_traces[projection]`, (samples × synapses). Float backends give them in model
    units, fixed-point backends as 8-bit mantissas (meta["weight_scale"][projection]:
    mantissas per model unit). Saved as `<projection>.weight` and `<projection>.weight_trace`.
    """

    spikes: dict[str, tuple[np.ndarray, np.ndarray]]
    traces: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    weight_traces: dict[str, np.ndarray] = field(default_factory=dict)

    @staticmethod
    def from_raster(raster: dict[str, np.ndarray], traces=None, meta=None) -> "Result":
        """Build from boolean (steps × neurons) rasters; np.nonzero gives step-then-neuron order."""
        spikes = {}
        for pop, r in raster.items():
            t, n = np.nonzero(r)
            spikes[pop] = (t.astype(np.int64), n.astype(np.int64))
        return Result(spikes=spikes, traces=dict(traces or {}), meta=dict(meta or {}))

    def neuron_spike_count(self) -> int:
        """Spikes of the neuron populations (meta["sources"] names the spike sources)."""
        sources = set(self.meta.get("sources", ()))
        return sum(len(t) for pop, (t, _) in self.spikes.items() if pop not in sources)

    def raster(self, pop: str, steps: int, size: int) -> np.ndarray:
        r = np.zeros((steps, size), dtype=bool)
        t, n = self.spikes[pop]
        r[t, n] = True
        return r

    def save(self, path: str) -> None:
        """Write atomically (see nmcompile.files.atomic), every array uncompressed-then-deflated as
        numpy's savez_compressed does, but closing the archive on any exception (numpy's
        leaves it to the garbage collector, which then prints an ignored error on Ctrl-C)."""
        arrays = {"meta": np.array(dumps(self.meta, indent=None))}
        for pop, (t, n) in self.spikes.items():
            arrays[f"{pop}.spike_steps"] = t
            arrays[f"{pop}.spike_neurons"] = n
        for (pop, var), trace in self.traces.items():
            arrays[f"{pop}.{var}"] = trace
        for proj, weights in self.weights.items():
            arrays[f"{proj}.{WEIGHT}"] = weights
        for proj, samples in self.weight_traces.items():
            arrays[f"{proj}.{WEIGHT_TRACE}"] = samples
        with atomic_output(path) as fh, \
                zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for key, value in arrays.items():
                with zf.open(key + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)

    @staticmethod
    def load(path: str) -> "Result":
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            spikes, traces, weights, weight_traces = {}, {}, {}, {}
            for key in z.files:
                if key == "meta":
                    continue
                pop, var = key.rsplit(".", 1)
                if var == "spike_steps":
                    spikes[pop] = (z[key], z[f"{pop}.spike_neurons"])
                elif var == WEIGHT:
                    weights[pop] = z[key]
                elif var == WEIGHT_TRACE:
                    weight_traces[pop] = z[key]
                elif var != "spike_neurons":
                    traces[(pop, var)] = z[key]
        return Result(spikes=spikes, traces=traces, meta=meta, weights=weights,
                      weight_traces=weight_traces)
