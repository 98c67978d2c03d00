"""How much memory this machine can still give: every size check (model loading, input files,
run length) compares its estimate with this before allocating anything."""
from __future__ import annotations

import os


def available_memory() -> int:
    """Bytes the OS can still give us (MemAvailable), or physical memory where /proc is absent."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
