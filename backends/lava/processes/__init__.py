"""nmcompile's own Lava processes. This folder holds only Process classes and their
ProcessModels: Lava, looking for the models of a Process defined outside Lava, imports every
module of the folder (the lowering names each model explicitly, so it never has to)."""
