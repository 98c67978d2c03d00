"""Seeded generators that depend only on a seed and a key: the same numbers on every backend
and every run (Poisson sources, connectivity, learning seeds)."""
from __future__ import annotations

import zlib

import numpy as np


def stable_rng(seed: int, *key: int | str) -> np.random.Generator:
    """A generator that depends only on the seed and the key (names hashed stably, not by hash())."""
    words = [int(seed)] + [k if isinstance(k, int) else zlib.crc32(k.encode()) for k in key]
    return np.random.default_rng(np.random.SeedSequence(words))
