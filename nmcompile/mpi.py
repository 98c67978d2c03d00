"""Whether mpiexec started this process as one of several, known from the environment before
MPI itself starts (mpi4py starts it on import, so it is imported only when needed): MPICH's
hydra sets PMI_SIZE and PMI_RANK, Open MPI OMPI_COMM_WORLD_SIZE and OMPI_COMM_WORLD_RANK."""
from __future__ import annotations

import os

SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")
RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK")


def _from_environment(names: tuple[str, ...], default: int) -> int:
    for name in names:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return default


def launched_size() -> int:
    """How many processes mpiexec started together with this one (1 without mpiexec)."""
    return _from_environment(SIZE_VARIABLES, 1)


def launched_rank() -> int:
    """This process's rank among them (0 without mpiexec)."""
    return _from_environment(RANK_VARIABLES, 0)
