"""NIR (Neuromorphic Intermediate Representation) in and out (docs/design.md §7): load_nir
turns a NIR graph into a Network with stated choices (dt, discretisation, input timing);
save_nir writes a Network as a NIR graph. The `nir` package is an optional dependency
(`pip install 'nmcompile[nir]'`), imported only when a NIR graph is read or written."""
from __future__ import annotations

import os

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def is_nir_file(path: str) -> bool:
    """A .nir file, or any HDF5 file (NIR's container), read by the NIR front end."""
    if str(path).lower().endswith(".nir"):
        return True
    if not os.path.isfile(path):  # a FIFO or device is not opened here: the loader refuses it
        return False
    try:
        with open(path, "rb") as fh:
            return fh.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE
    except OSError:
        return False


def _require_nir() -> None:
    from nmcompile.diagnostics import InputError
    try:
        import nir  # noqa: F401
    except ImportError:
        raise InputError("NIR graphs need the nir package: pip install 'nmcompile[nir]'") \
            from None


def __getattr__(name: str):
    if name == "load_nir":
        _require_nir()
        from nmcompile.frontends.nir.importer import load_nir
        return load_nir
    if name == "save_nir":
        _require_nir()
        from nmcompile.frontends.nir.export import save_nir
        return save_nir
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["is_nir_file", "load_nir", "save_nir"]
