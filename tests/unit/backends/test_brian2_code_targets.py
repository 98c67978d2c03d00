"""numpy, cython and cpp_standalone compute the same floats (compiled without fast-math).

Slow on a cold cache (cython compiles ~25 modules, cpp_standalone one project), so this is
the only test that compiles; it still runs in CI.
"""
from pathlib import Path

import numpy as np
import pytest

from nmcompile.backends import get_backend

pytest.importorskip("brian2")
pytest.importorskip("Cython")

RECURRENT_EI = Path(__file__).parents[3] / "examples" / "recurrent_ei.yaml"


@pytest.mark.slow
@pytest.mark.skipif(not RECURRENT_EI.exists(), reason="examples/recurrent_ei.yaml missing")
def test_numpy_cython_and_cpp_standalone_agree_on_recurrent_ei():
    from nmcompile.backends.brian2.code_targets import cache_root, model_hash
    from nmcompile.frontends.modelfile import load_model

    net = load_model(RECURRENT_EI)
    backend = get_backend("brian2")
    # cpp_standalone twice: the second run reuses the project built for this model
    results = [(target, backend.run(net, net.steps, options={"code_target": target}))
               for target in ("numpy", "cython", "cpp_standalone", "cpp_standalone")]
    reference = results[0][1]
    assert sum(len(t) for t, _ in reference.spikes.values()) > 100
    for target, result in results[1:]:
        assert result.meta["code_target"] == target
        for pop, (t, n) in reference.spikes.items():
            assert np.array_equal(result.spikes[pop][0], t), f"{target}: {pop} spike steps"
            assert np.array_equal(result.spikes[pop][1], n), f"{target}: {pop} spike neurons"
        for key, trace in reference.traces.items():
            np.testing.assert_array_equal(result.traces[key], trace, err_msg=f"{target}: {key}")
    assert (cache_root() / "standalone" / model_hash(net, net.steps) / "main").exists()
