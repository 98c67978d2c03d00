"""numba's disk cache keys a kernel factory's closure by the constants its body names, not by
its njit options: the one-thread and threaded block loops must get cache entries of their own,
or whichever was compiled first runs for both (same results, so only this test tells).
Checked in a fresh process, where the kernels come from the cache, one-thread kernel first."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "recurrent_ei.yaml"

CHECK = """
import sys
from nmcompile import driver
from nmcompile.frontends.modelfile.loader import load_model
from nmcompile.backends.{package} import kernel
net = load_model(sys.argv[1])
for threads in (1, 2, 1):
    driver.run(net, "{backend}", steps=20, options={{"threads": threads}})
for fn in (kernel.{serial}, kernel.{threaded}):
    (compiled,) = fn.overloads.values()
    library = compiled.library  # numba internals: a cached kernel's code is its shared module
    code = str(library._shared_module) if library._shared_module is not None \\
        else library.get_llvm_str()
    print(fn.targetoptions.get("parallel", False), "numba_parallel_for" in code)
"""


@pytest.mark.parametrize("backend, package, serial, threaded", [
    ("emulator", "emulator", "run_blocks", "run_blocks_threads"),
    ("emulator-float", "emulator_float", "run_steps", "run_steps_threads"),
])
def test_threaded_kernel_has_a_parallel_region_and_the_serial_one_not(backend, package, serial,
                                                                      threaded):
    script = CHECK.format(package=package, backend=backend, serial=serial, threaded=threaded)
    for _ in range(2):  # the first process may compile; the second loads both from the cache
        out = subprocess.run([sys.executable, "-c", script, str(EXAMPLE)], capture_output=True,
                             text=True, check=True).stdout.split("\n")
    assert out[:2] == ["False False", "True True"]
