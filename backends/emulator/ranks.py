"""The emulator on several processes (MPI through mpi4py; DESIGN §9): each rank owns a
contiguous range of neurons, split again between its threads, and the synapses onto them.

After every block of B steps (B the shortest delay: no spike reaches another neuron sooner)
the ranks exchange the block's spike lists with two collectives (the lists' lengths, then the
spikes), so that every rank holds every worker's list, as threads of one process do; the
kernel then delivers them exactly as it delivers its own threads'. At the end every rank
gathers the whole result, and the command line lets rank 0 alone write it.

A process is one of several when mpiexec started it (nmcompile.mpi): mpi4py, which starts
MPI on import, is imported only then.
"""
from __future__ import annotations

import os

import numpy as np

from nmcompile.diagnostics import InputError
from nmcompile.mpi import launched_size


def world():
    """MPI's world communicator when mpiexec started several processes, else None."""
    if launched_size() <= 1:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        raise InputError(f"mpiexec started {launched_size()} processes, but mpi4py is not "
                         f"installed: pip install 'nmcompile[mpi]' (mpi4py and the mpich "
                         f"wheel)") from None
    return MPI.COMM_WORLD


def local_cores(comm) -> int:
    """Cores for this rank's threads: those the process may use, shared among the ranks
    mpiexec started on this machine."""
    from .partition import available_cores
    on_machine = int(os.environ.get("MPI_LOCALNRANKS", comm.size)) if comm else 1
    return max(1, available_cores() // max(on_machine, 1))


def exchange(comm, work, buffer: int, w0: int, w1: int) -> None:
    """Give every rank every worker's spike list of the block just run (buffer `buffer`)."""
    ptr = np.ascontiguousarray(work.step_ptr[buffer, w0:w1])
    every_ptr = np.empty((comm.size,) + ptr.shape, np.int64)
    comm.Allgather(ptr, every_ptr)
    workers = ptr.shape[0]
    work.step_ptr[buffer] = every_ptr.reshape(comm.size * workers, -1)
    counts = every_ptr[:, :, -1]  # (ranks, workers): spikes in each worker's list
    mine = np.concatenate([work.spike_n[buffer, k, :work.step_ptr[buffer, k, -1]]
                           for k in range(w0, w1)]).astype(np.int64)
    every = np.empty(int(counts.sum()), np.int64)
    comm.Allgatherv(mine, (every, counts.sum(axis=1)))
    at = 0
    for k, count in enumerate(counts.reshape(-1).tolist()):
        if not w0 <= k < w1:
            work.spike_n[buffer, k, :count] = every[at:at + count]
        at += count


def any_overflow(comm, work, w0: int, w1: int) -> bool:
    """Strict mode: whether any rank's worker met an overflow; if so every rank gets every
    worker's first overflows, so all of them report the same one."""
    if comm.allreduce(int(work.event_step[w0:w1].max()), op=_max()) < 0:
        return False
    for k, (step, first) in enumerate(zip(comm.allgather(work.event_step[w0:w1]),
                                          comm.allgather(work.first[w0:w1]))):
        work.event_step[k * (w1 - w0):(k + 1) * (w1 - w0)] = step
        work.first[k * (w1 - w0):(k + 1) * (w1 - w0)] = first
    return True


def gather(comm, spike_t: np.ndarray, spike_n: np.ndarray, trace: np.ndarray,
           overflow: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every rank's spikes, probes and overflow counts, on every rank. Ranks own neurons in
    order, so their spike lists one after another, stably sorted by step, are in (step,
    neuron) order; a rank's probe columns are zero elsewhere, so summing them is exact."""
    times, neurons = comm.allgather(spike_t), comm.allgather(spike_n)
    spike_t, spike_n = np.concatenate(times), np.concatenate(neurons)
    order = np.argsort(spike_t, kind="stable")
    total_trace = np.empty_like(trace)
    comm.Allreduce(trace, total_trace, op=_sum())
    total_overflow = np.empty_like(overflow)
    comm.Allreduce(overflow, total_overflow, op=_sum())
    return spike_t[order], spike_n[order], total_trace, total_overflow


def _max():
    from mpi4py import MPI
    return MPI.MAX


def _sum():
    from mpi4py import MPI
    return MPI.SUM
