"""Opening the files a user names: model, connectivity `.npz`, target and chip image.

Every loader comes through here, so each refuses the same things the same way: a path that is
not a regular file (a folder, a named pipe, a device, a socket) is refused *before* it is
opened — opening a FIFO waits for a writer forever, reading /dev/zero never ends — and a zip
archive of `.npy` arrays (numpy.savez, chip images) is read so that any damage is an
UnreadableFile, never a zipfile, zlib or numpy exception. Each loader turns UnreadableFile
into its own located InputError.
"""
from __future__ import annotations

import contextlib
import io
import os
import stat
import zipfile

import numpy as np

from nmcompile.memory import available_memory

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))
MAX_DEFLATE_RATIO = 1032  # deflate cannot expand data more than this: a bound on a member's size
READ_CHUNK = 1 << 22


class UnreadableFile(Exception):
    """Why a file cannot be read. `kind` names what the path is when it is not a regular
    file ("a folder", "a named pipe (FIFO)", ...); `missing` is true when nothing is there."""

    def __init__(self, reason: str, *, kind: str | None = None, missing: bool = False):
        reason = printable(reason)
        super().__init__(reason)
        self.reason, self.kind, self.missing = reason, kind, missing

    def text(self, noun: str) -> str:
        """The reason, saying for a non-regular path what it is instead of `noun`."""
        return f"this is {self.kind}, not {noun}" if self.kind else self.reason


def check_regular_file(path: str | os.PathLike) -> os.stat_result:
    """Refuse, without opening it, a path that is not a regular file (symbolic links followed)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise UnreadableFile("no such file", missing=True) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the path
        raise UnreadableFile(getattr(exc, "strerror", None) or str(exc)) from None
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        raise UnreadableFile(f"this is {kind}, not a regular file", kind=kind)
    return st


_recorders: list[list[str]] = []


@contextlib.contextmanager
def recording():
    """Collect the path of every file opened through this module inside the block: the inputs
    a command's outputs must not replace (a model's connectivity files, say)."""
    seen: list[str] = []
    _recorders.append(seen)
    try:
        yield seen
    finally:
        _recorders.remove(seen)


def open_regular_file(path: str | os.PathLike) -> io.BufferedReader:
    """The regular file at `path`, opened for binary reading. The path is checked before it
    is opened, and the opened file again: what was swapped in between (a FIFO, say) is
    opened without blocking and refused all the same."""
    check_regular_file(path)
    for seen in _recorders:
        seen.append(os.fspath(path))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise UnreadableFile("no such file", missing=True) from None
    except OSError as exc:
        raise UnreadableFile(exc.strerror or str(exc)) from None
    fh = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        fh.close()
        raise UnreadableFile("this is not a regular file", kind="not a regular file")
    return fh


TEXT_MEMORY_SHARE = 8  # a model or target text may take this fraction of the free memory


def read_text_file(path: str | os.PathLike) -> bytes:
    """The bytes of the regular file at `path` (see open_regular_file), a YAML or JSON text:
    one too large to parse in the memory available (a 1 TB sparse file, say) is refused."""
    with open_regular_file(path) as fh:
        size, have = os.fstat(fh.fileno()).st_size, available_memory()
        if size > have // TEXT_MEMORY_SHARE:
            raise UnreadableFile(f"it is too large to read: {size / 2**30:,.1f} GiB, more than "
                                 f"1/{TEXT_MEMORY_SHARE} of the {have / 2**30:,.1f} GiB of "
                                 f"memory available")
        try:
            return fh.read()
        except OSError as exc:
            raise UnreadableFile(exc.strerror or str(exc)) from None


class NpyArchive:
    """A zip archive of `.npy` arrays (numpy.savez, chip images), read defensively: every
    problem of the bytes — not a zip, truncated, a bad CRC, an unknown compression method or
    zip version, an encrypted member, an array header that disagrees with the data — raises
    UnreadableFile, and no array is allocated larger than its member can hold."""

    def __init__(self, path: str | os.PathLike):
        self._fh = open_regular_file(path)
        start = b""
        try:
            self._size = os.fstat(self._fh.fileno()).st_size
            start = self._fh.read(4)
            self._fh.seek(0)
            self._zip = zipfile.ZipFile(self._fh)
            self.names = self._zip.namelist()
        except Exception as exc:  # noqa: BLE001 - the archive's bytes, however broken
            self._fh.close()
            if start != b"PK\x03\x04":
                raise UnreadableFile("not a zip archive" if start else
                                     "not a zip archive (the file is empty)") from None
            why = _why(exc)
            if why == "File is not a zip file":  # a zip's beginning without its end
                why = "its central directory at the end is missing"
            raise UnreadableFile(f"damaged or truncated zip ({why})") from None

    def __enter__(self) -> "NpyArchive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._zip.close()
        finally:
            self._fh.close()

    def size(self, name: str) -> int:
        """The bytes member `name` holds uncompressed — what reading it allocates — so that a
        loader can weigh them against the memory available before it reads."""
        return self._checked_info(name).file_size

    def read(self, name: str) -> bytes:
        """The bytes of member `name`."""
        try:
            info = self._checked_info(name)
            return self._zip.read(info)
        except UnreadableFile:
            raise
        except Exception as exc:  # noqa: BLE001
            raise UnreadableFile(f"damaged content ({name}: {_why(exc)})") from None

    def array(self, name: str) -> np.ndarray:
        """The array stored in member `name` (an .npy file; no pickled objects)."""
        try:
            info = self._checked_info(name)
            with self._zip.open(info) as member:
                shape, fortran, dtype = _array_header(member)
                if dtype.hasobject:
                    raise ValueError("it holds Python objects, not plain numbers")
                count = 1
                for n in shape:
                    count *= n
                size = info.file_size - member.tell()
                if count * dtype.itemsize != size:  # checked before anything is allocated
                    raise ValueError(f"its header declares {count:,} values of {dtype} but it "
                                     f"holds {max(size, 0):,} bytes of data")
                array = np.empty(count, dtype)
                raw, got = memoryview(array.view(np.uint8).reshape(-1)), 0
                while got < size:  # in chunks, as numpy reads: one huge read copies more
                    chunk = member.read(min(READ_CHUNK, size - got))
                    if not chunk:
                        raise ValueError("its data ends early")
                    raw[got:got + len(chunk)] = chunk
                    got += len(chunk)
                if member.read(1):  # reading to the end also checks the CRC
                    raise ValueError("data past the end of the array")
            return array.reshape(shape, order="F" if fortran else "C")
        except UnreadableFile:
            raise
        except Exception as exc:  # noqa: BLE001 - zipfile, zlib and numpy errors alike
            raise UnreadableFile(f"damaged content ({name}: {_why(exc)})") from None

    def _checked_info(self, name: str) -> zipfile.ZipInfo:
        """The member's directory entry, if its sizes are possible for this file."""
        info = self._zip.getinfo(name)
        if info.header_offset + info.compress_size > self._size:
            raise UnreadableFile(f"damaged or truncated zip (member {name} runs past the end of "
                                 f"the file)")
        ratio = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: MAX_DEFLATE_RATIO}.get(
            info.compress_type)  # bzip2 and lzma have no such bound (nor does numpy write them)
        if ratio and info.file_size > info.compress_size * ratio + 1024:
            raise UnreadableFile(f"damaged or truncated zip (member {name} claims "
                                 f"{info.file_size:,} bytes from {info.compress_size:,})")
        return info


def _array_header(fp) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran order, dtype) from an .npy header, leaving `fp` at the data."""
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fp)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(fp)
    return np.lib.format._read_array_header(fp, version)  # 3.0: UTF-8 field names, no public reader


def _why(exc: BaseException) -> str:
    """One line about an exception raised by damaged bytes (zipfile's own words need no type)."""
    text = str(exc)
    if isinstance(exc, zipfile.BadZipFile) and text:
        return text
    name = type(exc).__name__
    if name == "error":  # zlib.error, struct.error: say whose
        name = f"{type(exc).__module__}.error"
    return f"{name}: {text}" if text else name


def printable(text: str) -> str:
    """`text` on one line: newlines and other unprintable characters (a damaged file's names
    may hold any) escaped as \\n, \\x00, ..."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


__all__ = ["NpyArchive", "UnreadableFile", "check_regular_file", "open_regular_file",
           "printable", "read_text_file"]
