"""Passes over the IR: quantize/ (a float network -> the integer registers of one target).
The driver owns the pass order of a run (DESIGN §1)."""
