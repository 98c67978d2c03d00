"""Passes over the IR: quantize/ (a float network -> the integer registers of one target) and
mapping/ (partition and placement onto chips, design rules, resource report, chip image).
The driver owns the pass order of a run (DESIGN §1)."""
