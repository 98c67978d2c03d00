"""Lava's learning engine (LearningDense with STDPLoihi / RewardModulatedSTDP) for the
backends that are not Lava: brian2 and emulator-float run its float model (numpy, in Lava's
order of operations), the emulator its bit-approximate fixed-point model with Lava's seeded
stochastic rounding (compiled with numba) (docs/design.md §10). Not a backend: a shared
reproduction of Lava's semantics, as emulator/lava_semantics.py.

connection.py: one plastic projection (its state, the draws, the float model);
fixed_kernel.py: the fixed-point spiking phase and learning epoch; reward_post.py: the traces
nmcompile's reward post process sends (y1, y2); runner.py: every plastic projection of a
network, stepped by a backend after each step's spikes.
"""
