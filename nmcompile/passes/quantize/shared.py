"""What the quantizers of several neuron models share: decay registers, bias mantissas and
exponents, initial values and currents as registers, the bounds that incoming weights and
injected currents put on a scale, and how rounding is measured (DESIGN §2.4, §2.5)."""
from __future__ import annotations

import math

import numpy as np

from nmcompile.diagnostics import Diagnostic, InputError
from nmcompile.ir import Network, Population
from nmcompile.passes.quantize.projections import (LEARNED_RANGE, plastic_format,
                                                   weight_format, weight_registers)
from nmcompile.passes.quantize.report import STATE_LIMIT, QuantReport
from nmcompile.targets.schema import Numerics

MIN_WEIGHT_MANT = 2 ** 7  # headroom never costs a projection's largest weight more resolution


def decay_register(fraction: float, offset: int) -> int:
    """12-bit decay of a state that loses `fraction` per step, as Lava reads it: the state
    keeps 4096 − (register + offset) of 4096 (offset 1 for Lava's synaptic currents)."""
    return int(np.clip(round(4096 * fraction) - offset, 0, 4095))


def realised_tau(keep: float, dt: float) -> float:
    """The time constant whose per-step decay keeps the fraction `keep` of the state."""
    if keep >= 1:
        return math.inf
    return 0.0 if keep <= 0 else -dt / math.log(keep)


def incoming_sums(pop: Population, net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron, the sum of its positive incoming weights and of |negative| ones; a plastic
    synapse counts at its reach (w_max) in each direction its sign mode allows, where learning
    may take it."""
    pos, neg = np.zeros(pop.size), np.zeros(pop.size)
    for proj in net.incoming(pop.name):
        mode, reach = plastic_format(proj)
        up, down = np.maximum(proj.weight, 0), np.maximum(-proj.weight, 0)
        if mode is not None:
            up = np.full(up.shape, reach if mode != "inhibitory" else 0.0)
            down = np.full(down.shape, reach if mode != "excitatory" else 0.0)
        np.add.at(pos, proj.post_idx, up)
        np.add.at(neg, proj.post_idx, down)
    return pos, neg


def incoming_register_sums(pop: Population, net: Network, scale: float,
                           num: Numerics) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron, the largest input a step can bring in register units of the state it
    enters (Lava's a << input_shift), positive and |negative|, from the weights as
    quantized at `scale` (their rounding included). With a negative weight exponent Lava
    floors each summed input, which can take away up to one more unit per synapse. A plastic
    synapse counts at the ends of the 8-bit range Lava clips its learned weight to."""
    pos, neg = np.zeros(pop.size), np.zeros(pop.size)
    for proj in net.incoming(pop.name):
        mode, reach = plastic_format(proj)
        q = weight_registers(proj.weight, scale, num, mode, reach)
        m = q.mantissas * 2.0 ** q.exponent
        up, down = np.maximum(m, 0), np.maximum(-m, 0)
        if mode is not None:
            low, high = LEARNED_RANGE[mode]
            up, down = np.full(m.shape, high * 2.0 ** q.exponent), np.full(
                m.shape, -low * 2.0 ** q.exponent)
        np.add.at(pos, proj.post_idx, up)
        np.add.at(neg, proj.post_idx, down + (q.exponent < 0))
    return pos * 2 ** num.input_shift, neg * 2 ** num.input_shift


def leaky_bound(drive: np.ndarray, decay: int) -> np.ndarray:
    """Where a state that keeps (4096 − decay)/4096 of itself settles under a constant positive
    drive per step (0 for none): drive·4096/decay, ∞ when it never leaks (decay = 0)."""
    drive = np.maximum(drive, 0.0)
    if decay:
        return drive * 4096 / decay
    return np.where(drive > 0, math.inf, 0.0)


def current_extremes(pop: Population, net: Network):
    """For each injected current into `pop`: (neurons it drives, its smallest and largest
    value over any run, one per driven neuron). A steps or ramp current takes its extremes at
    its points, and 0 before its first point when that is after step 0; a file current its
    values, and 0 after its end (a run may be longer than the file)."""
    for current in net.currents:
        if current.population != pop.name:
            continue
        values = current.values if current.kind == "file" else current.points[:, 1]
        if not values.size:
            continue
        neurons = slice(None) if current.neurons is None else current.neurons
        low, high = values.min(axis=0), values.max(axis=0)
        if current.kind == "file" or current.points[0, 0] > 0:
            low, high = np.minimum(low, 0.0), np.maximum(high, 0.0)
        yield neurons, low, high


def current_range(pop: Population, net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron, the smallest and largest sum of its injected currents at any step."""
    low, high = np.zeros(pop.size), np.zeros(pop.size)
    for neurons, lo, hi in current_extremes(pop, net):
        low[neurons] += lo
        high[neurons] += hi
    return low, high


def weight_scale_limits(pop: Population, net: Network, num: Numerics) -> tuple[float, float]:
    """(hard, floor) that the incoming projections put on a population's scale: above `hard`
    some projection's largest weight no longer fits its mantissa at the largest exponent;
    below `floor` some projection's largest mantissa would drop under 2^7 (at exponent 0).
    A plastic projection's largest weight is its reach (w_max), in its rule's sign mode."""
    hard, floor = math.inf, 0.0
    for proj in net.incoming(pop.name):
        mode, reach = plastic_format(proj)
        w_max = max(float(np.abs(proj.weight).max()) if proj.n_synapses else 0.0, reach)
        if w_max > 0:
            top = weight_format(proj.weight, num.weight_bits, mode)[2]
            hard = min(hard, top * 2 ** (num.weight_exp[1] + num.input_shift) / w_max)
            floor = max(floor, MIN_WEIGHT_MANT * 2 ** num.input_shift / w_max)
    return hard, floor


def bias_limit(num: Numerics) -> float:
    """The largest |bias| in register units a mantissa and exponent express."""
    return (2 ** (num.bias_mant_bits - 1) - 1) * 2 ** num.bias_exp[1]


def bias_registers(value: np.ndarray, num: Numerics) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per neuron (mantissa, exponent, saturated) of a bias in register units: the smallest
    exponent whose rounded mantissa fits, else the mantissa saturated at the largest exponent."""
    limit = 2 ** (num.bias_mant_bits - 1)
    mant = np.zeros(value.size, np.int64)
    exp = np.full(value.size, num.bias_exp[1], np.int64)
    todo = np.ones(value.size, bool)
    for e in range(num.bias_exp[0], num.bias_exp[1] + 1):
        m = np.rint(value / 2 ** e)   # floats: a value may be inf (a threshold ≪ |bias|)
        fits = todo & (m >= -limit) & (m <= limit - 1)
        mant[fits], exp[fits] = m[fits], e
        todo &= ~fits
    e = num.bias_exp[1]
    mant[todo] = np.clip(np.rint(value[todo] / 2 ** e), -limit, limit - 1)
    return mant, exp, todo


def state_registers(value: np.ndarray, scale: float, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """rint(value · scale) saturated to ±limit, and which values saturated."""
    reg = np.rint(value * scale)
    saturated = np.abs(reg) > limit
    return np.clip(reg, -limit, limit).astype(np.int64), saturated


def current_rounding(pop: Population, net: Network, scale: float,
                     limit: int) -> tuple[float | None, int]:
    """(largest |c_reg/scale − c|, saturated values) of the population's injected current
    over the network's steps, registers made as ir.fixed_current makes them (rint(c · scale)
    saturated to ±limit); (None, 0) without a current."""
    c = net.current(pop.name, net.steps)
    if c is None:
        return None, 0
    reg = np.rint(c * scale)
    saturated = int(np.count_nonzero(np.abs(reg) > limit))
    reg = np.clip(reg, -limit, limit)
    return max_error(reg / scale, c), saturated


def max_error(realised: np.ndarray, requested: np.ndarray) -> float:
    return float(np.max(np.abs(realised - requested), initial=0.0))


def uniform(values: np.ndarray) -> float | int | None:
    """The one value every neuron has, or None."""
    first = values.flat[0]
    return first.item() if np.all(values == first) else None


def compact(registers: np.ndarray) -> int | np.ndarray:
    """One int when every neuron has the same register value, else int32 per neuron."""
    same = uniform(registers)
    return int(same) if same is not None else registers.astype(np.int32)


def check_float_range(pop: Population, scale: float, what: str, threshold: str) -> None:
    """Every register value (|x| < 2^23) must map to a finite model value: then the realised
    parameters, the report and the traces of a run are all finite. Only values near float64's
    limits break this (a threshold, or the values that set a scale without one); other
    extreme values saturate and warn. `what` names the values at fault, `threshold` the
    threshold parameter of the model."""
    if math.isfinite(scale) and math.isfinite(STATE_LIMIT / scale):
        return
    why = ("an integer threshold needs more register units per model unit than float64 holds"
           if not math.isfinite(scale) else
           "the 24-bit state range would span more model units than float64 holds")
    raise InputError(Diagnostic(
        "error", "NM614", f"population {pop.name}: {what} cannot be represented on this "
        f"target: {why}; express {threshold}, bias and weights in other units", pop.location))


def warn(report: QuantReport, pop: Population, code: str, message: str) -> None:
    """A quantization warning about `pop`, located at its definition."""
    report.diagnostics.append(Diagnostic("warning", code, f"population {pop.name}: " + message,
                                         pop.location))


def input_warnings(pop: Population, rep, current_register: str, bias: np.ndarray,
                   realised_bias: np.ndarray, report: QuantReport) -> None:
    """The warnings LIF and adaptive LIF share (their reports have the same fields): a
    tau_syn of inf (NM605; the synaptic register is `current_register`), a saturated bias
    mantissa (NM606), a saturated injected current (NM607)."""
    if math.isinf(rep.tau_syn[0]):
        warn(report, pop, "NM605", f"tau_syn = inf cannot be expressed: {current_register} "
                                   f"always decays by at least 1/4096 per step (realised "
                                   f"tau_syn = {rep.tau_syn[1]:.4g} ms)")
    if rep.bias_saturated:
        worst = int(np.argmax(np.abs(realised_bias - bias)))
        where = "" if rep.bias is not None else f" in {rep.bias_saturated} of {pop.size} neurons"
        warn(report, pop, "NM606", f"bias {bias[worst]:g} saturates to "
                                   f"{realised_bias[worst]:.4g}{where}")
    if rep.current_saturated:
        warn(report, pop, "NM607", f"the injected current saturates at ±(2^23 − 1) register "
                                   f"units in {rep.current_saturated} values (step × neuron); "
                                   f"largest error {rep.current_error:.4g}")
