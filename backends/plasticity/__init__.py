"""Lava's learning engine (LearningDense with STDPLoihi / RewardModulatedSTDP) in numpy, for
the backends that are not Lava: brian2 and emulator-float run its float model, the emulator
its bit-approximate fixed-point model with Lava's seeded stochastic rounding (docs/design.md
§10). Not a backend: a shared reproduction of Lava's semantics, as emulator/lava_semantics.py.

connection.py: one plastic projection (Lava's spiking-phase bookkeeping and learning epoch);
reward_post.py: the traces nmcompile's reward post process sends (y1, y2); runner.py: every
plastic projection of a network, stepped by a backend after each step's spikes.
"""
