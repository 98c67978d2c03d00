"""Writes the two NIR example graphs of this folder and their input rasters.

Both graphs are built with the `nir` package the way snnTorch, SpikingJelly and Norse export a
trained network: times in seconds, parameters per neuron in the layer's shape, and the
exporter's time step baked into r and w_in as snnTorch does (tau = dt/(1 - beta),
r = tau/dt, w_in = tau_syn/dt; IF: r = 1/dt as SpikingJelly writes it), so that a spike of
weight w moves the synaptic current, or v, by w in one step. The exporter's step here is 1 ms
(snnTorch's own export assumes 0.1 ms): import with --dt 1. Each file has its own seeded
generator, and running the script again rewrites the files byte for byte (nir.write is
deterministic; the rasters are written with fixed zip timestamps).

    python examples/nir/make_graphs.py

scnn.nir + scnn_input.npz
    a small spiking CNN shaped like a Sinabs or snnTorch export: event-camera input (2
    polarities, 16 x 16) -> Conv2d 3x3 -> IF -> SumPool2d 2 -> Conv2d 3x3 stride 2 -> IF ->
    Flatten -> Affine -> LIF, fed a bar sweeping across the sensor plus background events.
recurrent_cuba.nir + recurrent_cuba_input.npz
    a recurrent current-based network: 8 inputs -> Affine -> CubaLIF(32), which feeds back to
    itself through a Delay (2 or 3 ms per neuron) and an Affine, -> Affine -> CubaLI readout.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import nir
import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 13  # with the file's index: one generator per file (generator())
EXPORT_DT_S = 1e-3  # the exporter's step: r = tau/dt, w_in = tau_syn/dt (snnTorch's convention)
STEPS = 100         # run length written into each raster (`steps`)
THRESHOLD = 1.0
FILES = ("scnn.nir", "scnn_input.npz", "recurrent_cuba.nir", "recurrent_cuba_input.npz")


def scnn_graph(rng: np.random.Generator) -> nir.NIRGraph:
    """Input (2, 16, 16) -> Conv2d(2->4, 3x3, padding 1) -> IF -> SumPool2d(2) ->
    Conv2d(4->8, 3x3, stride 2, padding "valid") -> IF -> Flatten -> Affine(72->10) -> LIF.

    The first layer's kernels are hand-made (a gradient across x on ON events, on OFF events,
    mirrored, and an event count) plus noise; the rest are random. Their sizes were tuned so
    that every layer spikes without any v saturating in fixed point (an IF never leaks, so a
    negative bias drives an idle neuron down step after step)."""
    edge = np.array([[-0.5, 0.5, 1.0]] * 3)  # a gradient across x
    conv1_w = np.stack([np.stack([edge, 0.3 * edge[:, ::-1]]),          # mostly ON events
                        np.stack([0.3 * edge[:, ::-1], edge]),          # mostly OFF events
                        np.stack([edge[:, ::-1], 0.3 * edge]),          # ON, mirrored
                        np.full((2, 3, 3), 0.1)])                       # event count
    conv1_w = conv1_w + rng.normal(0.0, 0.05, conv1_w.shape)
    conv1_b = rng.normal(-0.01, 0.005, 4)
    conv2_w = rng.normal(0.04, 0.15, (8, 4, 3, 3))
    conv2_b = rng.normal(-0.02, 0.01, 8)
    fc_w = rng.normal(0.02, 0.2, (10, 72))
    fc_b = rng.normal(0.0, 0.02, 10)
    tau = 5e-3  # snnTorch Leaky(beta=0.8) at dt 1 ms: tau = dt/(1 - beta)
    nodes = {
        "input": nir.Input(input_type=np.array([2, 16, 16])),
        "conv1": nir.Conv2d(input_shape=(16, 16), weight=conv1_w, stride=1, padding=1,
                            dilation=1, groups=1, bias=conv1_b),
        "if1": if_node((4, 16, 16)),
        "pool1": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
                               padding=np.array([0, 0])),
        "conv2": nir.Conv2d(input_shape=(8, 8), weight=conv2_w, stride=2, padding="valid",
                            dilation=1, groups=1, bias=conv2_b),
        "if2": if_node((8, 3, 3)),
        "flatten": nir.Flatten(input_type={"input": np.array([8, 3, 3])}, start_dim=0,
                               end_dim=-1),
        "fc": nir.Affine(weight=fc_w, bias=fc_b),
        "lif": nir.LIF(tau=np.full(10, tau), r=np.full(10, tau / EXPORT_DT_S),
                       v_leak=np.zeros(10), v_threshold=np.full(10, THRESHOLD)),
        "output": nir.Output(output_type=np.array([10])),
    }
    order = list(nodes)
    return nir.NIRGraph(nodes=nodes, edges=list(zip(order, order[1:])))


def if_node(shape: tuple[int, ...]) -> nir.IF:
    """An integrate-and-fire layer: r = 1/dt makes a spike of weight w add w to v."""
    return nir.IF(r=np.full(shape, 1.0 / EXPORT_DT_S), v_threshold=np.full(shape, THRESHOLD),
                  v_reset=np.zeros(shape))


def scnn_raster(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Events of a vertical bar, 2 pixels wide, sweeping +x one column every 3 steps: ON events
    (channel 0) where it arrives, OFF events (channel 1) where it leaves, each pixel's event
    dropped with probability 0.2, plus background events at 0.2 % per pixel and step."""
    events = []  # (step, channel, y, x)
    for step in range(1, STEPS):
        if step % 3 == 0:
            front = (step // 3) % 18 - 1    # 16 columns plus a gap between sweeps
            for channel, x in ((0, front), (1, front - 2)):
                if 0 <= x < 16:
                    rows = np.flatnonzero(rng.random(16) >= 0.2)
                    events += [(step, channel, y, x) for y in rows]
        noise = np.argwhere(rng.random((2, 16, 16)) < 0.002)
        events += [(step, *map(int, pixel)) for pixel in noise]
    events = np.unique(np.array(events, dtype=np.int64), axis=0)  # one event per pixel and step
    neurons = np.ravel_multi_index((events[:, 1], events[:, 2], events[:, 3]), (2, 16, 16))
    return raster("input", events[:, 0], neurons)


def recurrent_graph(rng: np.random.Generator) -> nir.NIRGraph:
    """Input (8) -> Affine(8->32) -> CubaLIF(32) -> Delay -> Affine(32->32) -> back into the
    CubaLIF; CubaLIF -> Affine(32->4) -> CubaLI(4) readout. Every Affine has a bias."""
    n_in, n_rec, n_out = 8, 32, 4
    tau_syn, tau_mem = 5e-3, 10e-3  # snnTorch Synaptic(alpha=0.8, beta=0.9) at dt 1 ms
    in_w = rng.normal(0.15, 0.1, (n_rec, n_in)) * (rng.random((n_rec, n_in)) < 0.5)
    rec_w = rng.normal(0.0, 0.1, (n_rec, n_rec)) * (rng.random((n_rec, n_rec)) < 0.3)
    np.fill_diagonal(rec_w, 0.0)
    nodes = {
        "input": nir.Input(input_type=np.array([n_in])),
        "fc_in": nir.Affine(weight=in_w, bias=rng.normal(0.0, 0.002, n_rec)),
        "cuba": nir.CubaLIF(tau_syn=np.full(n_rec, tau_syn), tau_mem=np.full(n_rec, tau_mem),
                            r=np.full(n_rec, tau_mem / EXPORT_DT_S),
                            v_leak=rng.uniform(0.0, 0.3, n_rec),  # per neuron: a resting drive
                            v_threshold=np.full(n_rec, THRESHOLD), v_reset=np.zeros(n_rec),
                            w_in=np.full(n_rec, tau_syn / EXPORT_DT_S)),
        # the recurrent path waits 2 ms, every fourth neuron's 3 ms (whole steps at dt 1 ms)
        "delay": nir.Delay(delay=np.where(np.arange(n_rec) % 4 == 3, 3e-3, 2e-3)),
        "fc_rec": nir.Affine(weight=rec_w, bias=rng.normal(0.0, 0.002, n_rec)),
        "fc_out": nir.Affine(weight=rng.normal(0.0, 0.1, (n_out, n_rec)),
                             bias=rng.normal(0.0, 0.01, n_out)),
        "readout": nir.CubaLI(tau_syn=np.full(n_out, tau_syn), tau_mem=np.full(n_out, 20e-3),
                              r=rng.uniform(15.0, 25.0, n_out),  # tau_mem/dt ± 25 %, per neuron
                              v_leak=np.zeros(n_out), w_in=np.full(n_out, tau_syn / EXPORT_DT_S)),
        "output": nir.Output(output_type=np.array([n_out])),
    }
    edges = [("input", "fc_in"), ("fc_in", "cuba"), ("cuba", "delay"), ("delay", "fc_rec"),
             ("fc_rec", "cuba"), ("cuba", "fc_out"), ("fc_out", "readout"),
             ("readout", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def recurrent_raster(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Poisson-like input: each of the 8 channels fires with probability 0.08 per step, in
    two bursts (steps 1-39 and 60-79) so the recurrence shows between and after them."""
    active = np.zeros((STEPS, 8), dtype=bool)
    for start, stop in ((1, 40), (60, 80)):
        active[start:stop] = rng.random((stop - start, 8)) < 0.08
    steps, neurons = np.nonzero(active)
    return raster("input", steps, neurons)


def raster(node: str, steps: np.ndarray, neurons: np.ndarray) -> dict[str, np.ndarray]:
    """The `--input` layout: `<node>.spike_steps`, `<node>.spike_neurons` (flat C-order
    index), `steps` (the run length)."""
    return {f"{node}.spike_steps": np.asarray(steps, dtype=np.int64),
            f"{node}.spike_neurons": np.asarray(neurons, dtype=np.int64),
            "steps": np.array(STEPS, dtype=np.int64)}


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez's format with a fixed timestamp per member (np.savez stamps the current time,
    so its files differ on every run)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, value in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(value), allow_pickle=False)
            member = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, buffer.getvalue())


def generator(part: int) -> np.random.Generator:
    """One seeded generator per file: editing one graph leaves the others' numbers alone."""
    return np.random.default_rng([SEED, part])


def main(folder: Path = HERE) -> None:
    """Write the four files into `folder` (this script's folder; tests write elsewhere)."""
    nir.write(folder / "scnn.nir", scnn_graph(generator(0)))
    write_npz(folder / "scnn_input.npz", scnn_raster(generator(1)))
    nir.write(folder / "recurrent_cuba.nir", recurrent_graph(generator(2)))
    write_npz(folder / "recurrent_cuba_input.npz", recurrent_raster(generator(3)))
    for name in FILES:
        print(f"{folder / name}: {(folder / name).stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
