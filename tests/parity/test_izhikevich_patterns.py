"""The 20 firing patterns of Izhikevich (2004), Fig. 1 (examples/izhikevich/patterns/):

  * each model file is the paper's script figure1.m — its parameters, time step, duration and
    current protocol (the script's conditions at t = step·dt), transcribed a second time here
    from the script — and the numpy oracle reproduces the script's own loop on it;
  * brian2 and the oracle agree spike for spike and trace for trace (float-exact, §2.6);
  * each pattern shows its signature in the oracle run (tonic: regular spikes; phasic: one
    spike; bursting: bimodal intervals; ...);
  * all four backends satisfy the parity contract (§3) on every pattern.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from oracle import oracle_run

from nmcompile import driver
from nmcompile.frontends.modelfile import load_model
from nmcompile.parity import DEFAULT_BACKENDS, check_parity
from nmcompile.parity.report import format_table

FOLDER = Path(__file__).parents[2] / "examples" / "izhikevich" / "patterns"
PATTERNS = sorted(FOLDER.glob("*.yaml"))
POP = "neuron"


@dataclass(frozen=True)
class Panel:
    """One panel of figure1.m: a, b, c, d; V before the first step; tau (ms, as written); the
    end of tspan = 0:tau:T; the current I(t), t an exact Fraction; the panel's own constants."""

    a: float
    b: float
    c: float
    d: float
    v0: float
    tau: str
    T: int
    current: Callable[[Fraction], float]
    k1: float = 5.0
    k2: float = 140.0
    u0: float | None = None            # None: u = b·V
    accommodation: bool = False        # panel R: u = u + tau*a*(b*(V+65))


def _pulses(t, starts, width, amplitude):
    return amplitude if any(s < t < s + width for s in starts) else 0.0


# Copied from figure1.m as published with the paper (the copy read: OpenSourceBrain/
# IzhikevichModel, MATLAB/izhi2003.m, whose second figure is figure1.m's 20 panels).
FIGURE1 = {
    "a": Panel(.02, .2, -65, 6, -70, "0.25", 100, lambda t: 14 if t > 10 else 0),
    "b": Panel(.02, .25, -65, 6, -64, "0.25", 200, lambda t: .5 if t > 20 else 0),
    "c": Panel(.02, .2, -50, 2, -70, "0.25", 220, lambda t: 15 if t > 22 else 0),
    "d": Panel(.02, .25, -55, .05, -64, "0.2", 200, lambda t: .6 if t > 20 else 0),
    "e": Panel(.02, .2, -55, 4, -70, "0.25", 160, lambda t: 10 if t > 16 else 0),
    "f": Panel(.01, .2, -65, 8, -70, "0.25", 85, lambda t: 30 if t > Fraction(85, 10) else 0),
    "g": Panel(.02, -.1, -55, 6, -60, "0.25", 300,
               lambda t: 0.075 * float(t - 30) if t > 30 else 0, k1=4.1, k2=108),
    "h": Panel(.2, .26, -65, 0, -64, "0.25", 300,
               lambda t: -0.5 + 0.015 * float(t - 30) if t > 30 else -0.5),
    "i": Panel(.02, .2, -65, 6, -70, "0.2", 100, lambda t: 7.04 if 10 < t < 13 else 0),
    "j": Panel(.05, .26, -60, 0, -62, "0.25", 200, lambda t: 2 if 20 < t < 25 else 0),
    "k": Panel(.1, .26, -60, -1, -62, "0.25", 400,
               lambda t: _pulses(t, (40, 60, 280, 320), 4, .65)),
    "l": Panel(.02, -.1, -55, 6, -60, "0.25", 100,
               lambda t: _pulses(t, (Fraction(100, 11), Fraction(100, 11) + 5, 70, 80), 2, 9),
               k1=4.1, k2=108),
    "m": Panel(.03, .25, -60, 4, -64, "0.2", 200, lambda t: -15 if 20 < t < 25 else 0),
    "n": Panel(.03, .25, -52, 0, -64, "0.2", 200, lambda t: -15 if 20 < t < 25 else 0),
    "o": Panel(.03, .25, -60, 4, -64, "0.25", 100,
               lambda t: 1 if 10 < t < 15 or 80 < t < 85 else -6 if 70 < t < 75 else 0),
    "p": Panel(.1, .26, -60, 0, -61, "0.25", 300,
               lambda t: 1.24 if Fraction(300, 8) < t < Fraction(300, 8) + 5
               or 216 < t < 221 else .24),
    "q": Panel(1, .2, -60, -21, -70, "0.1", 50, lambda t: 20 if abs(t - 10) < 1 else 0),
    "r": Panel(.02, 1, -55, 4, -65, "0.5", 400,
               lambda t: float(t) / 25 if t < 200 else 0 if t < 300
               else float(t - 300) / 12.5 * 4 if t < Fraction(3125, 10) else 0,
               u0=-16, accommodation=True),
    "s": Panel(-.02, -1, -60, 8, -63.8, "0.5", 350, lambda t: 80 if t < 50 or t > 250 else 75),
    "t": Panel(-.026, -1, -45, -2, -63.8, "0.5", 350,
               lambda t: 80 if t < 50 or t > 250 else 75),
}


def panel_of(path: Path) -> Panel:
    return FIGURE1[path.stem[0]]


def script_current(panel: Panel) -> np.ndarray:
    """The panel's I at every t of tspan, evaluated exactly (t = k·tau as a Fraction; step·dt in
    float64 and MATLAB's own 0:tau:T give the same conditions on these grids)."""
    tau = Fraction(panel.tau)
    return np.array([float(panel.current(k * tau)) for k in range(int(panel.T / tau) + 1)])


def script_run(panel: Panel, current: np.ndarray) -> tuple[list[int], np.ndarray, np.ndarray]:
    """figure1.m's loop in float64, its operations in its order (V^2 is V*V): the spike steps,
    VV (30 at a spike) and uu."""
    a, b, c, d, tau = panel.a, panel.b, panel.c, panel.d, float(panel.tau)
    v = float(panel.v0)
    u = b * v if panel.u0 is None else float(panel.u0)
    spikes, vv, uu = [], [], []
    for k, i in enumerate(current):
        v = v + tau * (0.04 * (v * v) + panel.k1 * v + panel.k2 - u + i)
        u = u + tau * a * (b * (v + 65)) if panel.accommodation else u + tau * a * (b * v - u)
        if v > 30:
            spikes.append(k)
            vv.append(30.0)
            v, u = c, u + d
        else:
            vv.append(v)
        uu.append(u)
    return spikes, np.array(vv), np.array(uu)


@cache
def oracle(stem: str):
    """(network, oracle Result) of one pattern, run once per session."""
    net = load_model(str(FOLDER / f"{stem}.yaml"))
    return net, oracle_run(net)


def times(stem: str) -> np.ndarray:
    """Spike times of the pattern's oracle run, in ms."""
    net, result = oracle(stem)
    return result.spikes[POP][0] * net.dt


def v_trace(stem: str) -> np.ndarray:
    return oracle(stem)[1].traces[(POP, "v")][:, 0]


def bursts(t: np.ndarray) -> list[np.ndarray]:
    """Spike times split into bursts. Intervals are bimodal when the sorted intervals jump by a
    factor of 3 or more somewhere; the largest jump separates intra- from inter-burst ones.
    Without such a jump the train is one group."""
    isi = np.diff(t)
    ordered = np.sort(isi)
    if len(ordered) < 2:
        return [t]
    ratio = ordered[1:] / ordered[:-1]
    k = int(np.argmax(ratio))
    if ratio[k] < 3:
        return [t]
    return np.split(t, np.nonzero(isi > ordered[k])[0] + 1)


def test_there_are_twenty_patterns_one_per_panel():
    assert [p.stem[0] for p in PATTERNS] == list("abcdefghijklmnopqrst")


# --- the files are figure1.m --------------------------------------------------------------

@pytest.mark.parametrize("path", PATTERNS, ids=lambda p: p.stem)
def test_model_file_is_the_scripts_panel(path):
    net, panel = load_model(str(path)), panel_of(path)
    model = net.populations[POP].model
    assert (model.a, model.b, model.c, model.d) == (panel.a, panel.b, panel.c, panel.d)
    assert (model.k0, model.k1, model.k2, model.v_peak) == (0.04, panel.k1, panel.k2, 30)
    assert (model.v_b, model.g) == ((-65, 0) if panel.accommodation else (0, 1))
    assert model.v_init == panel.v0 and (model.u_init is None) == (panel.u0 is None)
    assert np.array_equal(model.initial_u(1), [panel.u0 if panel.u0 is not None
                                               else panel.b * panel.v0])
    assert net.dt == float(panel.tau) and net.steps == int(panel.T / Fraction(panel.tau)) + 1
    assert {(p.population, p.var) for p in net.probes} == {(POP, "v"), (POP, "u")}
    current, wanted = net.current(POP, net.steps)[:, 0], script_current(panel)
    if net.currents[0].kind == "steps":  # piecewise constant: the very values of the script
        assert np.array_equal(current, wanted)
    else:                                # a ramp interpolates: the same line, to rounding
        assert np.allclose(current, wanted, rtol=0, atol=1e-13)
        assert not np.array_equal(current, 0 * current)


@pytest.mark.parametrize("path", PATTERNS, ids=lambda p: p.stem)
def test_oracle_reproduces_the_scripts_loop(path):
    """Same spikes at the same steps; the same floats where the current is the same floats
    (every steps current), within 1e-9 mV where a ramp rounds the current differently."""
    net, result = oracle(path.stem)
    panel = panel_of(path)
    spikes, vv, uu = script_run(panel, script_current(panel))
    steps = result.spikes[POP][0]
    assert steps.tolist() == spikes
    v = result.traces[(POP, "v")][:, 0].copy()
    v[steps] = 30.0
    u = result.traces[(POP, "u")][:, 0]
    tol = 0 if net.currents[0].kind == "steps" else 1e-9
    assert np.allclose(v, vv, rtol=0, atol=tol) and np.allclose(u, uu, rtol=0, atol=tol)


# --- brian2 vs the oracle ----------------------------------------------------------------

@pytest.mark.parametrize("path", PATTERNS, ids=lambda p: p.stem)
def test_brian2_equals_the_oracle(path):
    net, want = oracle(path.stem)
    got = driver.run(net, "brian2")
    for got_part, want_part in zip(got.spikes[POP], want.spikes[POP]):
        assert np.array_equal(got_part, want_part)
    for var in ("v", "u"):
        assert np.array_equal(got.traces[(POP, var)], want.traces[(POP, var)]), var


# --- each pattern's signature (oracle runs; t in ms) -------------------------------------

def test_a_tonic_spiking_fires_regularly_during_the_step():
    t = times("a_tonic_spiking")
    isi = np.diff(t)
    assert len(t) >= 4 and t[0] > 10
    assert abs(isi[-1] - isi[-2]) <= 0.05 * isi[-2]


def test_b_phasic_spiking_fires_once_at_onset():
    t = times("b_phasic_spiking")
    assert len(t) == 1 and t[0] > 20


def test_c_tonic_bursting_repeats_bursts():
    t = times("c_tonic_bursting")
    groups = bursts(t)
    assert t[0] > 22 and len(groups) >= 3 and all(len(g) >= 3 for g in groups)


def test_d_phasic_bursting_bursts_once_then_stays_quiet():
    t = times("d_phasic_bursting")
    assert len(t) >= 3 and len(bursts(t)) == 1
    assert t[0] > 20 and t[-1] < 70           # nothing in the last 130 ms of the step


def test_e_mixed_mode_bursts_then_fires_single_spikes():
    groups = bursts(times("e_mixed_mode"))
    assert len(groups[0]) >= 3 and len(groups) >= 3
    assert all(len(g) == 1 for g in groups[1:])


def test_f_spike_frequency_adaptation_lengthens_intervals():
    isi = np.diff(times("f_spike_frequency_adaptation"))
    assert len(isi) >= 3 and np.all(np.diff(isi) > 0) and isi[-1] >= 5 * isi[0]


def test_g_class_1_starts_slow_and_speeds_up_with_the_ramp():
    t = times("g_class_1_excitable")
    isi = np.diff(t)
    assert t[0] > 30 and len(isi) >= 3
    assert np.all(np.diff(isi) < 0) and isi[0] >= 2.5 * isi[-1]


def test_h_class_2_starts_at_a_high_rate():
    t = times("h_class_2_excitable")
    isi = np.diff(t)
    assert t[0] > 30 and len(isi) >= 3
    assert isi[0] <= 25                       # 40 Hz or more from its first two spikes
    assert np.all(np.diff(isi) <= 0)
    assert np.diff(times("g_class_1_excitable"))[0] > 25   # which class 1 is not


def test_i_spike_latency_fires_long_after_the_pulse():
    t = times("i_spike_latency")
    assert len(t) == 1 and t[0] > 13 + 5     # the pulse is 10 < t < 13


def test_j_subthreshold_oscillations_are_damped():
    net, result = oracle("j_subthreshold_oscillations")
    (spike,) = result.spikes[POP][0]
    v = v_trace("j_subthreshold_oscillations")[spike + 1:]
    inner = v[1:-1]
    extrema = inner[((inner > v[:-2]) & (inner >= v[2:])) | ((inner < v[:-2]) & (inner <= v[2:]))]
    deviation = np.abs(extrema - v[-1])
    assert spike * net.dt > 20 and len(extrema) >= 4
    assert np.all(np.diff(deviation) < 0)


def test_k_resonator_answers_the_pair_in_tune_only():
    t = times("k_resonator")
    assert len(t) == 1 and t[0] > 320          # pairs at 40/60 ms: no; at 280/320 ms: yes


def test_l_integrator_adds_up_close_pulses_only():
    t = times("l_integrator")
    assert len(t) == 1 and 100 / 11 < t[0] < 70   # pulses 5 ms apart: yes; 10 ms apart: no


def test_m_rebound_spike_after_the_negative_pulse():
    t = times("m_rebound_spike")
    assert len(t) == 1 and t[0] > 25


def test_n_rebound_burst_after_the_negative_pulse():
    t = times("n_rebound_burst")
    assert len(t) >= 3 and t[0] > 25 and len(bursts(t)) == 1 and np.diff(t).max() < 10


def test_o_threshold_variability_only_after_inhibition():
    t = times("o_threshold_variability")
    assert len(t) == 1 and t[0] > 80          # the same pulse at 10-15 ms evoked nothing


def test_p_bistability_switched_on_and_off_by_pulses():
    t = times("p_bistability")
    isi = np.diff(t)
    assert len(t) >= 3 and t[0] > 37.5 and t[-1] < 216
    assert isi.max() <= 1.05 * isi.min()


def test_q_depolarizing_after_potential_follows_the_spike():
    net, result = oracle("q_depolarizing_after_potential")
    (spike,) = result.spikes[POP][0]
    v = v_trace("q_depolarizing_after_potential")
    c = net.populations[POP].model.c
    after = v[spike + 1: spike + 1 + round(5 / net.dt)]   # the 5 ms after the spike
    assert after.max() >= c + 5 and v[-1] < c


def test_r_accommodation_ignores_the_slow_ramp():
    net, _ = oracle("r_accommodation")
    t = times("r_accommodation")
    current = net.current(POP, net.steps)[:, 0]
    slow, fast = current[:round(300 / net.dt)], current[round(300 / net.dt):]
    assert slow.max() > fast.max()            # the slow ramp reaches the larger current...
    assert len(t) == 1 and 300 <= t[0] < 320  # ...yet only the fast one evokes a spike


def test_s_inhibition_induced_spiking_only_while_inhibited():
    t = times("s_inhibition_induced_spiking")
    assert len(t) >= 2 and np.all((t > 50) & (t <= 250))


def test_t_inhibition_induced_bursting_only_while_inhibited():
    t = times("t_inhibition_induced_bursting")
    groups = bursts(t)
    assert len(groups) >= 2 and all(len(g) >= 3 for g in groups)
    assert np.all((t > 50) & (t <= 250))


# --- all four backends --------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.lava
@pytest.mark.parametrize("path", PATTERNS, ids=lambda p: p.stem)
def test_parity_across_all_backends(path):
    report = check_parity(load_model(str(path)), DEFAULT_BACKENDS)
    table = format_table(report)
    assert [r.status for r in report.runs] == ["ran"] * 4, table
    assert [(p.contract, p.verdict in ("pass", "tie")) for p in report.pairs] == [
        ("float-exact", True), ("bit-exact", True), ("quantization", True)], table
    assert report.pairs[1].mismatches == 0 and report.pairs[1].spikes_compared > 0, table
