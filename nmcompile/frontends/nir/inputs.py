"""The input raster of a NIR model (`--input RASTER.npz`): the spikes of its Input nodes.

Layout (the layout of a result's spikes): `<node>.spike_steps` and `<node>.spike_neurons`, one
pair per Input node (neuron = flat index in C order), and optionally `steps`, the run length.
A spike the raster gives for step t reaches the first neuron layer at step t (docs/design.md
§7.4): the source population emits it at step t - 1, so step 0 is refused.
"""
from __future__ import annotations

import zipfile

import numpy as np

from nmcompile.frontends.nir.errors import file_error
from nmcompile.ir import MAX_STEPS, SpikeArray

SUFFIXES = (".spike_steps", ".spike_neurons")


def read_raster(path: str, sizes: dict[str, int]) -> tuple[dict[str, SpikeArray], int | None]:
    """The SpikeArray of every Input node named in `sizes` (node name -> neurons), and the
    raster's `steps` if it gives one. Nodes the raster leaves out never spike."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise file_error(path, "no such input raster", code="NM710") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise file_error(path, f"not an input raster (.npz) numpy can read: {exc}",
                         code="NM710") from None
    steps = _run_steps(path, arrays.pop("steps", None))
    nodes = {}
    for key in arrays:
        node = next((key[: -len(s)] for s in SUFFIXES if key.endswith(s)), None)
        if node is None:
            raise file_error(path, f"array {key!r}: expected '<input node>.spike_steps' and "
                                   f"'<input node>.spike_neurons' (and optionally 'steps')",
                             code="NM711")
        if node not in sizes:
            known = ", ".join(sorted(sizes)) or "none"
            raise file_error(path, f"array {key!r}: the model has no Input node {node!r} "
                                   f"(its Input nodes: {known})", code="NM711")
        nodes[node] = None
    sources = {}
    for node, size in sizes.items():
        if node not in nodes:
            sources[node] = SpikeArray()
            continue
        sources[node] = _spikes(path, node, size, arrays)
    return sources, steps


def _spikes(path: str, node: str, size: int, arrays: dict) -> SpikeArray:
    keys = [node + s for s in SUFFIXES]
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise file_error(path, f"array {missing[0]!r} is missing (it comes with "
                               f"{[k for k in keys if k not in missing][0]!r})", code="NM711")
    steps, neurons = (_integers(path, k, arrays[k]) for k in keys)
    if steps.size != neurons.size:
        raise file_error(path, f"{keys[0]!r} has {steps.size} spikes but {keys[1]!r} has "
                               f"{neurons.size}", code="NM711")
    if steps.size and steps.min() < 1:
        raise file_error(path, f"{keys[0]!r}: a spike at step {int(steps.min())}: the first "
                               f"step an input spike can reach a neuron is 1 (it leaves the "
                               f"source one step earlier)", code="NM712")
    if steps.size and steps.max() > MAX_STEPS:
        raise file_error(path, f"{keys[0]!r}: step {int(steps.max())} is past {MAX_STEPS}",
                         code="NM712")
    if neurons.size and (neurons.min() < 0 or neurons.max() >= size):
        bad = int(neurons.min() if neurons.min() < 0 else neurons.max())
        raise file_error(path, f"{keys[1]!r}: neuron {bad} is out of range: Input node {node!r} "
                               f"has {size} neurons (0..{size - 1})", code="NM712")
    order = np.lexsort((neurons, steps))
    steps, neurons = steps[order], neurons[order]
    twice = (np.diff(steps) == 0) & (np.diff(neurons) == 0)
    if twice.any():
        k = int(np.flatnonzero(twice)[0])
        raise file_error(path, f"{node!r}: neuron {int(neurons[k])} spikes twice at step "
                               f"{int(steps[k])}", code="NM712")
    return SpikeArray(neurons=neurons, steps=steps - 1)


def _integers(path: str, key: str, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 1 or not (np.issubdtype(values.dtype, np.integer)
                                or (np.issubdtype(values.dtype, np.floating)
                                    and np.all(np.isfinite(values))
                                    and np.all(values == np.rint(values)))):
        raise file_error(path, f"{key!r} must be a 1-D array of integers, got "
                               f"{values.dtype} with shape {values.shape}", code="NM711")
    return values.astype(np.int64)


def _run_steps(path: str, value) -> int | None:
    if value is None:
        return None
    value = np.asarray(value)
    if value.shape != () or not np.issubdtype(value.dtype, np.integer) \
            or not 1 <= int(value) <= MAX_STEPS:
        raise file_error(path, f"'steps' must be one integer in 1..{MAX_STEPS}, got {value!r}",
                         code="NM711")
    return int(value)
