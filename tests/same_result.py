"""One check shared by the tests that split a run (threads, processes): two results hold the
same spikes, probed registers (or float state) and overflow counts (fixed point only), bit
for bit."""
from __future__ import annotations

import numpy as np


def assert_same_result(a, b) -> None:
    assert a.spikes.keys() == b.spikes.keys()
    for name in a.spikes:
        for x, y in zip(a.spikes[name], b.spikes[name]):
            np.testing.assert_array_equal(x, y, err_msg=name)
    assert a.traces.keys() == b.traces.keys()
    for key in a.traces:
        np.testing.assert_array_equal(a.traces[key], b.traces[key], err_msg=str(key))
        assert a.traces[key].tobytes() == b.traces[key].tobytes(), key  # -0.0 is not 0.0
    assert a.meta.get("overflow") == b.meta.get("overflow")
