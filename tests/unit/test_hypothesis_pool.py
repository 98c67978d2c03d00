"""tests/conftest.py keeps hypothesis from drawing literals of the project's own modules, so
that derandomized examples do not depend on test order: the hook it replaces must exist and be
the one hypothesis calls."""
from __future__ import annotations

import inspect

from hypothesis.internal.conjecture import providers


def test_the_local_constant_pool_is_empty_and_is_the_one_hypothesis_reads():
    pool = providers._get_local_constants()
    assert not (pool.integers or pool.floats or pool.bytes or pool.strings)
    assert "_get_local_constants()" in inspect.getsource(providers.HypothesisProvider)
