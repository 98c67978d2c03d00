"""The `.npz` files a model file names (connectivity, injected currents), opened through
nmcompile.files.inputfiles — so they are recorded as inputs no output may replace — with every
problem of the file turned into one located error in the same words."""
from __future__ import annotations

import contextlib
import os
from typing import Iterator

from nmcompile.files.inputfiles import NpyArchive, UnreadableFile, printable
from nmcompile.frontends.modelfile.yamlmarks import Source, brief


@contextlib.contextmanager
def npz_archive(arg: object, path, src: Source, base_dir: str) -> Iterator[tuple[NpyArchive, str, str]]:
    """(archive, the name as shown in messages, the full path) of the `.npz` named by `arg`,
    a path relative to the model file's folder; reading it inside the block is covered too."""
    if not isinstance(arg, str):
        raise src.fail(path, f"must be a path to an .npz file, got {arg!r}")
    full = arg if os.path.isabs(arg) else os.path.join(base_dir, arg)
    shown = brief(printable(arg))
    try:
        with NpyArchive(full) as archive:  # a FIFO or device is refused before it is opened
            yield archive, shown, full
    except UnreadableFile as exc:
        if exc.missing:
            raise src.fail(path, f"no such file: {shown} (relative paths start at the model "
                                 f"file's folder)") from None
        if exc.kind:
            raise src.fail(path, f"{shown} is {exc.kind}, not an .npz file") from None
        why = exc.reason
        if why.startswith("not a zip archive"):
            why = "not an .npz archive (write it with numpy.savez)"
        elif "Python objects" in why:
            why = "it holds Python objects; save plain integer and float arrays"
        raise src.fail(path, f"cannot read {shown}: {why}") from None


def array_names(archive: NpyArchive) -> list[str]:
    """The arrays of an archive by name, as numpy.savez called them (without `.npy`)."""
    return [n[:-4] if n.endswith(".npy") else n for n in archive.names]
