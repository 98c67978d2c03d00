"""The model-file front end (format v1, DESIGN §4).

loader.py reads a file or a parsed document into an IR Network; fields.py checks values
(numbers, integers, names) for all of them; yamlmarks.py parses YAML keeping every value's
line; neuronparams.py reads a neuron model's parameters from its PARAMS table; projections.py,
connectivity.py and weights.py turn the `projections:` list into synapses; currents.py reads
the `currents:` list; learning.py a projection's `learning:` rule and the weight probes;
npzfiles.py opens the .npz files a model names.
"""
from nmcompile.frontends.modelfile.loader import (DT_RANGE, FORMAT, MAX_NEURONS, is_chip_image,
                                                  load_document, load_model)
from nmcompile.frontends.modelfile.weights import MAX_DELAY

__all__ = ["DT_RANGE", "FORMAT", "MAX_DELAY", "MAX_NEURONS", "is_chip_image", "load_document",
           "load_model"]
