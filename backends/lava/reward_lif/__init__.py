"""RewardLIF: nmcompile's post process for reward-modulated STDP (docs/design.md §10.2).

A package of its own: for a Process class defined outside Lava, Lava's compiler executes every
module in that class's folder as a top-level module when it looks for ProcessModels, so the
modules here use absolute imports only (the lowering names the models explicitly anyway).
"""
