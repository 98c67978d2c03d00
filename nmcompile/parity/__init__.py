"""The parity contract (DESIGN §3): harness.py runs several backends on one model and judges
every pair, compare.py holds one function per contract, report.py writes the table, JSON and
JUnit XML. The names below are the harness's (`check_parity`, `compare_results`, ...)."""
from nmcompile.parity.harness import (DEFAULT_BACKENDS, BackendRun, PairResult, ParityReport,
                                      Tolerance, check_parity, compare_results, plan_pairs,
                                      with_v_probes)

__all__ = ["DEFAULT_BACKENDS", "BackendRun", "PairResult", "ParityReport", "Tolerance",
           "check_parity", "compare_results", "plan_pairs", "with_v_probes"]
