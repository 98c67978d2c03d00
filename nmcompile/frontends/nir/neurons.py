"""NIR neuron nodes as LIF populations (docs/design.md §7.3).

NIR's neurons are continuous-time equations; nmcompile's LIF is a discrete map (§2.2):
    u[t] = u·(1-du) + a          v[t] = v·(1-dv) + u + b          spike: v > v_th, then v = 0
Discretising NIR's `tau·dv/dt = (v_leak - v) + r·I` with a decay fraction
    delta = dt/tau (Euler, the default: the NIR paper's reference, Norse and snnTorch)
    delta = 1 - exp(-dt/tau) (exact, for a piecewise-constant input)
gives v += delta·(v_leak - v + r·I): the decay is dv = delta, the input scale of a synapse is
r·delta, and v_leak becomes the bias delta·v_leak. NIR's v_reset is taken as the origin of v
(v' = v - v_reset), so that nmcompile's reset to zero is NIR's reset to v_reset.
A current-based node adds `tau_syn·dI/dt = -I + w_in·S`, which is the LIF's u scaled by r·dm.

Each function returns a NeuronNode: the LIF model, and the per-neuron factors the graph layer
needs to turn fused linear weights and biases into synaptic weights and LIF biases.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import nir
import numpy as np

from nmcompile.frontends.nir.errors import NodeProblem
from nmcompile.ir import LIF, decay_fraction

NEURON_NODES = (nir.LIF, nir.CubaLIF, nir.IF, nir.LI, nir.CubaLI, nir.I)
DISCRETIZATIONS = ("euler", "exact")
TAU_SEARCH_ULPS = 64  # floats tried on each side of the closed-form tau


@dataclass(frozen=True)
class NeuronNode:
    """One neuron node as a LIF population with what its incoming projections need.

    input_scale: per neuron, the factor from a NIR input value to the LIF's input a
    constant_scale: per neuron, the factor from a constant NIR input (an Affine or conv bias)
        to the v-bias it is equivalent to (see add_constant_input)
    """

    model: LIF
    shape: tuple[int, ...]
    input_scale: np.ndarray
    constant_scale: np.ndarray
    current_based: bool

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def add_constant_input(self, constant: np.ndarray) -> LIF:
        """The model with a constant NIR input per neuron (a bias reaching the node).

        A constant input c into u (u[t] = u·(1-du) + a + c) is the same as u shifted by its
        steady state U = c/du: u' = u - U follows u'[t] = u'·(1-du) + a, v sees u' + U. So U
        joins the v-bias, and u' starts at -U (NIR's current starts at 0). U is computed
        without the division: U = ((w_in·r)·dm)·b. With tau_syn 0 (du = 1) u' never carries
        over a step, so its start stays 0."""
        from dataclasses import replace
        steady = self.constant_scale * constant
        bias = np.asarray(self.model.bias, dtype=np.float64) + steady
        if not self.current_based:
            return replace(self.model, bias=compact(bias))
        return replace(self.model, bias=compact(bias), u_init=compact(0.0 - steady))


def compact(values: np.ndarray) -> float | np.ndarray:
    """One float when every neuron has the same value (the IR's scalar form), else the array."""
    values = np.asarray(values, dtype=np.float64)
    flat = values.ravel()
    if flat.size and np.all(flat == flat[0]):
        return float(flat[0]) + 0.0  # + 0.0: a zero is +0.0, as the model file writes it
    return flat.copy()


def neuron_node(node, dt_ms: float, discretization: str) -> NeuronNode:
    """The LIF population of a NIR neuron node; NodeProblem when it has none."""
    dt_s = dt_ms / 1000.0
    shape = node_shape(node)
    size = int(np.prod(shape, dtype=np.int64))

    def field(name: str, default: float | None = None) -> np.ndarray:
        value = getattr(node, name, None)
        if value is None:
            if default is None:
                raise NodeProblem(f"{name} is missing")
            value = default
        arr = np.asarray(value, dtype=np.float64)
        if arr.size == 1:
            arr = np.full(size, float(arr.ravel()[0]))
        elif arr.size != size:
            raise NodeProblem(f"{name} has {arr.size} values for {size} neurons (shape {shape})")
        arr = arr.ravel()
        if np.isnan(arr).any():  # before `uniform`, where nan would read as varying
            raise NodeProblem(f"{name} is nan")
        if not np.all(np.isfinite(arr)) and name not in ("tau", "tau_mem", "tau_syn", "v_threshold"):
            raise NodeProblem(f"{name} must be finite")
        return arr

    def decay(name: str) -> tuple[float, float]:
        """The decay fraction per step and the IR's tau (ms) that gives it: exact
        discretisation is the IR's own (tau in ms = tau in s · 1000); Euler's dt/tau is
        matched by the tau whose 1 - exp(-dt/tau) is closest (tau_for)."""
        tau = uniform(name, field(name))
        if not tau > 0:
            raise NodeProblem(f"{name} must be > 0 seconds, got {tau!r}")
        if discretization == "exact":
            tau_ms = tau * 1000.0
            return decay_fraction(dt_ms, tau_ms), tau_ms
        d = dt_s / tau
        if d > 1:
            raise NodeProblem(f"{name} = {tau!r} s is shorter than dt = {dt_s!r} s: Euler "
                              f"is unstable there (decay {d:.3g} > 1); use a smaller --dt or "
                              f"--discretization exact")
        return d, tau_for(d, dt_ms)

    spiking = isinstance(node, (nir.LIF, nir.CubaLIF, nir.IF))
    reset = field("v_reset", 0.0) if spiking else np.zeros(size)
    if spiking:
        threshold = uniform("v_threshold - v_reset", field("v_threshold") - reset)
        if not threshold > 0:
            raise NodeProblem(f"v_threshold - v_reset must be > 0 (nmcompile's neuron spikes "
                              f"above a positive threshold from a reset at 0), got {threshold!r}")
    else:
        threshold = math.inf

    r = field("r")
    current_based = isinstance(node, (nir.CubaLIF, nir.CubaLI))
    if isinstance(node, (nir.IF, nir.I)):
        dm, tau_syn, tau_mem = dt_s, 0.0, math.inf
        scale = r * dt_s
        constant = scale
        bias = np.zeros(size)
    else:
        dm, tau_mem = decay("tau_mem" if current_based else "tau")
        if dm >= 1:
            raise NodeProblem(f"{'tau_mem' if current_based else 'tau'} gives a membrane decay "
                              f"of {dm!r} per step: v would forget everything each step; use a "
                              f"smaller --dt")
        leak = field("v_leak") - reset
        bias = dm * leak
        if current_based:
            ds, tau_syn = decay("tau_syn")
            w_in = field("w_in", 1.0)
            scale = ((w_in * ds) * r) * dm
            constant = (w_in * r) * dm
        else:
            tau_syn = 0.0
            scale = r * dm
            constant = scale
    model = LIF(tau_syn=tau_syn, tau_mem=tau_mem, v_th=threshold, bias=compact(bias),
                v_init=compact(0.0 - reset) if spiking else 0.0)
    return NeuronNode(model=model, shape=shape, input_scale=scale, constant_scale=constant,
                      current_based=current_based and tau_syn > 0)


def node_shape(node) -> tuple[int, ...]:
    """The node's neuron shape (NIR: the output type)."""
    return checked_shape(node.output_type.get("output")
                         if isinstance(node.output_type, dict) else None)


def checked_shape(shape) -> tuple[int, ...]:
    """A NIR shape as a tuple of ints with at least one element."""
    if shape is None:
        raise NodeProblem("has no shape")
    shape = tuple(int(d) for d in np.atleast_1d(shape))
    if not shape or any(d < 1 for d in shape):
        raise NodeProblem(f"shape {shape} has no elements")
    return shape


def uniform(name: str, values: np.ndarray) -> float:
    """A value nmcompile's populations share: every neuron must have the same."""
    if not np.all(values == values[0]):
        raise NodeProblem(f"{name} varies across neurons ({values.min()!r} to {values.max()!r}); "
                          f"an nmcompile population has one value (split the node)")
    return float(values[0])


def tau_for(delta: float, dt_ms: float) -> float:
    """The time constant (ms) whose decay fraction at dt_ms is `delta`, exactly when a float
    tau gives it (the closed form -dt/log(1-delta) and its neighbours are tried), so that every
    backend decays by the very delta NIR's discretisation asks for."""
    if delta == 0:
        return math.inf
    if delta == 1:
        return 0.0
    guess = -dt_ms / math.log1p(-delta)
    best, best_err = guess, abs(decay_fraction(dt_ms, guess) - delta)
    for direction in (math.inf, 0.0):
        tau = guess
        for _ in range(TAU_SEARCH_ULPS):
            if best_err == 0:
                return best
            tau = math.nextafter(tau, direction)
            err = abs(decay_fraction(dt_ms, tau) - delta)
            if err < best_err:
                best, best_err = tau, err
    return best
