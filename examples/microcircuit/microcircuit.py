"""The Potjans & Diesmann (2014) cortical microcircuit: published parameters, the quantities
derived from them at a given scale, and the body of the "microcircuit" module.

Numbers and scaling rules are those of NEST's implementation (pynest/examples/Potjans_2014:
network_params.py, network.py, helpers.py). Two things are ours:

* units. nmcompile's LIF (docs/design.md §2.2) works in v = V − E_L (mV) and a synaptic
  weight is what one spike adds to u. A weight is chosen so that the peak PSP of OUR
  discrete neuron is the published one (`psp_weight`), and a DC current I (pA) becomes the
  per-step `bias` that gives the same steady-state v (`dc_to_bias`).
* drive. "poisson" gives each neuron one Poisson source of rate K_ext·K_scaling·8 Hz, which
  a backend can only emit as at most one spike per step; "dc" replaces it by its mean.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
FULL_SIZES = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
# rows: target, columns: source, both in POPULATIONS order
CONN_PROBS = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443]])
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])  # external indegrees
BG_RATE = 8.0  # Hz, each external input
# NEST's mean rates of the full-scale network (Hz): the reference, and what the K-scaling
# compensation assumes the missing synapses would have carried
REFERENCE_RATES = np.array([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])
V0_MEAN = np.array([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43])  # mV
V0_STD = np.array([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48])

C_M, TAU_M, TAU_SYN, T_REF = 250.0, 10.0, 0.5, 2.0  # pF, ms, ms, ms
E_L, V_TH, V_RESET = -65.0, -50.0, -65.0  # mV
PSP_MEAN, PSP_REL_SD, G = 0.15, 0.1, -4.0  # mV; inhibitory PSPs are G times excitatory ones
DELAY_MEAN = {"E": 1.5, "I": 0.75}  # ms, by the source's type
DELAY_REL_SD = 0.5
POISSON_DELAY = 1.5  # ms
DT = 0.1  # ms
DRIVES = ("poisson", "dc")


def full_synapse_counts() -> np.ndarray:
    """Synapses of each projection at full scale, K = ln(1 − C) / ln(1 − 1/(N_post·N_pre)):
    the number of draws with replacement that connects a pair with probability C."""
    prod = np.outer(FULL_SIZES, FULL_SIZES).astype(float)
    return np.log(1.0 - CONN_PROBS) / np.log((prod - 1.0) / prod)


def psp_peak(dt: float = DT, tau_syn: float = TAU_SYN, tau_mem: float = TAU_M) -> float:
    """Peak v of our discrete LIF after one spike of unit weight (no threshold).

    With a = 1 − du, b = 1 − dv, a spike arriving at step 0 gives u_k = a^k and
    v_n = Σ_{k=0..n} b^(n−k)·u_k = (b^(n+1) − a^(n+1)) / (b − a); its maximum over n."""
    a, b = np.exp(-dt / tau_syn), np.exp(-dt / tau_mem)
    n = np.arange(int(np.ceil(20 * max(tau_syn, tau_mem) / dt)))
    return float(np.max((b ** (n + 1) - a ** (n + 1)) / (b - a)))


def psp_weight(psp_mv: float, dt: float = DT) -> float:
    """The weight (model units: what a spike adds to u) whose PSP peaks at psp_mv."""
    return psp_mv / psp_peak(dt)


def nest_psc_over_psp() -> float:
    """NEST's PSC amplitude (pA) per mV of PSP peak for iaf_psc_exp (helpers.py), used here only
    to reproduce NEST's DC currents in pA."""
    sub = 1.0 / (TAU_SYN - TAU_M)
    pre = TAU_M * TAU_SYN / C_M * sub
    frac = (TAU_M / TAU_SYN) ** sub
    return 1.0 / (pre * (frac ** TAU_M - frac ** TAU_SYN))


def dc_to_bias(current_pa, dt: float = DT):
    """A DC current (pA) as our per-step bias: in our LIF v ← v·(1 − dv) + u + bias settles at
    bias/dv, iaf_psc_exp at I·tau_m/C_m (mV), so bias = I·tau_m/C_m·dv."""
    return np.asarray(current_pa) * TAU_M / C_M * (1.0 - np.exp(-dt / TAU_M))


def psp_matrix() -> np.ndarray:
    """Mean PSP (mV) of each projection: 0.15 mV excitatory, G times that inhibitory, L4E→L2/3E
    doubled."""
    psp = np.where([p.endswith("E") for p in POPULATIONS], PSP_MEAN, G * PSP_MEAN)
    matrix = np.tile(psp, (len(POPULATIONS), 1))
    matrix[0, 2] = 2 * PSP_MEAN
    return matrix


@dataclass(frozen=True)
class Microcircuit:
    """Everything the network needs at one scale; arrays in POPULATIONS order, matrices
    [target, source]."""

    n_scaling: float
    k_scaling: float
    drive: str
    dt: float
    sizes: np.ndarray          # neurons per population
    synapses: np.ndarray       # synapses per projection (fixed_total_number), [post, pre]
    weights: np.ndarray        # mean weight per projection, model units
    ext_indegrees: np.ndarray  # Poisson inputs per neuron (drive "poisson")
    ext_weight: float          # weight of one external input
    dc_pa: np.ndarray          # NEST's DC current (pA): background ("dc") + K compensation
    bias: np.ndarray           # the same as our per-step bias

    @property
    def poisson_rates(self) -> np.ndarray:
        """Rate (Hz) of each neuron's one Poisson source: all its external inputs merged."""
        return BG_RATE * self.ext_indegrees


def derive(n_scaling: float = 0.1, k_scaling: float = 0.1, drive: str = "poisson",
           dt: float = DT) -> Microcircuit:
    """The network at one scale, by NEST's rules: N·N_scaling neurons, K·N_scaling·K_scaling
    synapses, K_ext·K_scaling external inputs, all rounded; with K_scaling ≠ 1 weights are
    divided by √K_scaling and the lost mean input, (1 − √K_scaling) times that of the full
    network at the reference rates, is added as DC (helpers.adjust_weights_and_input_to_
    synapse_scaling). Refuses a Poisson drive that needs more than one spike per step."""
    if drive not in DRIVES:
        raise ValueError(f"drive must be one of {', '.join(DRIVES)}, got {drive!r}")
    full_k = full_synapse_counts()
    ext_indegrees = np.round(K_EXT * k_scaling).astype(int)
    if drive == "poisson":
        per_step = BG_RATE * ext_indegrees * dt / 1000.0
        if per_step.max() > 1:
            worst = int(per_step.argmax())
            raise ValueError(
                f"Poisson drive at K_scaling {k_scaling:g} needs {per_step.max():.2f} spikes per "
                f"step in {POPULATIONS[worst]} ({ext_indegrees[worst]} inputs at {BG_RATE:g} Hz, "
                f"dt {dt:g} ms), but a source emits at most one: use drive 'dc', or "
                f"K_scaling ≤ {1000.0 / (BG_RATE * K_EXT.max() * dt):.3f}")
    psc_per_psp = nest_psc_over_psp()
    psc_ext = PSP_MEAN * psc_per_psp
    full_input = BG_RATE * K_EXT * psc_ext * TAU_SYN * 0.001  # pA, mean of the background
    dc_pa = full_input if drive == "dc" else np.zeros(len(POPULATIONS))
    lost = 1.0 - np.sqrt(k_scaling)
    indegrees = full_k / FULL_SIZES[:, None]
    recurrent = (psp_matrix() * psc_per_psp * indegrees * REFERENCE_RATES).sum(axis=1)
    dc_pa = dc_pa + 0.001 * TAU_SYN * lost * recurrent
    if drive == "poisson":
        dc_pa = dc_pa + lost * full_input
    return Microcircuit(
        n_scaling=n_scaling, k_scaling=k_scaling, drive=drive, dt=dt,
        sizes=np.round(FULL_SIZES * n_scaling).astype(int),
        synapses=np.round(full_k * n_scaling * k_scaling).astype(int),
        weights=psp_weight(1.0, dt) * psp_matrix() / np.sqrt(k_scaling),
        ext_indegrees=ext_indegrees,
        ext_weight=psp_weight(PSP_MEAN, dt) / np.sqrt(k_scaling),
        dc_pa=dc_pa, bias=dc_to_bias(dc_pa, dt))


def delay(source: str, dt: float = DT) -> dict:
    """NEST's delay rule: normal, SD half the mean, redrawn below one time step."""
    mean = DELAY_MEAN[source[-1]]
    return {"normal_ms": [mean, DELAY_REL_SD * mean], "min_ms": dt}


def weight(mean: float) -> dict:
    """NEST's weight rule: normal with a relative SD of 0.1, redrawn until of the mean's sign."""
    return {"normal": [float(mean), PSP_REL_SD * abs(float(mean))], "keep_sign": True}


def column(scope, mc: Microcircuit, bias=None) -> None:
    """The body of one microcircuit: 8 LIF populations, the projections between them (55 at
    most: none where C = 0 or where the scaled count rounds to 0) and, with the Poisson drive,
    one source population per LIF population ("bg_" + name).

    scope: anything with .lif/.poisson/.connect taking local names (a NetworkBuilder, or the
    builder of a module). bias: per population, a number or a "$parameter" of the module
    (default mc.bias)."""
    bias = dict(zip(POPULATIONS, mc.bias.tolist())) if bias is None else bias
    for k, name in enumerate(POPULATIONS):
        scope.lif(name, size=int(mc.sizes[k]), tau_syn=TAU_SYN, tau_mem=TAU_M, v_th=V_TH - E_L,
                  bias=bias[name], refractory=int(round(T_REF / mc.dt)), reset="zero",
                  v_init={"normal": [round(float(V0_MEAN[k] - E_L), 2), float(V0_STD[k])]})
    for i, post in enumerate(POPULATIONS):
        for j, pre in enumerate(POPULATIONS):
            if mc.synapses[i, j]:
                scope.connect(pre, post, {"fixed_total_number": int(mc.synapses[i, j])},
                              weight=weight(mc.weights[i, j]), delay=delay(pre, mc.dt))
    if mc.drive == "poisson":
        steps = int(round(POISSON_DELAY / mc.dt))
        for k, name in enumerate(POPULATIONS):
            source = f"bg_{name}"
            scope.poisson(source, size=int(mc.sizes[k]),
                          rate=float(mc.poisson_rates[k]))
            scope.connect(source, name, "one_to_one", weight=float(mc.ext_weight), delay=steps)
