"""Progress bars must not fix the multiprocessing start method: Lava's import sets it."""
import subprocess
import sys

import pytest

SCRIPT = """
from nmcompile.progress import progress_bar
progress_bar(total=1).close()
import lava.proc.lif.process  # calls mp.set_start_method('fork') at import
print("lava imported")
"""


@pytest.mark.lava
def test_a_progress_bar_before_lava_does_not_break_its_import():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "lava imported" in done.stdout
