"""Mapping onto chips: partition and place (partition.py, placement.py) into a Mapping
(blocks.py), design rules (drc.py), resource and energy report (report.py), chip image
(image.py)."""
from .blocks import Mapping
from .costs import population_costs
from .partition import partition

__all__ = ["Mapping", "partition", "population_costs"]
