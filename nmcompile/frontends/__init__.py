"""Front ends: descriptions of a network in, IR Network out (DESIGN §4).

modelfile/ reads model files (format v1) with located errors; builder.py assembles the same
documents from Python and loads them through the same checks; savemodel.py writes a Network
back as a model file."""
