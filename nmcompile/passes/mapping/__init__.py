"""Mapping onto chips: partition and place (partition.py, placement.py) into a Mapping
(blocks.py), design rules (drc.py), resource and energy report (report.py), chip image
(image.py)."""
from .blocks import Mapping
from .partition import partition, population_costs

__all__ = ["Mapping", "partition", "population_costs"]
