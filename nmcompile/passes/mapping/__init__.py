"""Mapping onto chips: partition and place (partition.py, placement.py), design rules (drc.py),
resource and energy report (report.py), chip image (image.py)."""
from .partition import Mapping, partition, population_costs

__all__ = ["Mapping", "partition", "population_costs"]
