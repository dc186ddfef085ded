"""All-or-nothing file output: temp file beside the destination, fsync, rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from soundry.errors import EncodeError, SoundryError

__all__ = ["atomic_path", "scratch_path"]


def _umask() -> int:
    # Reading it from /proc avoids os.umask(), whose set-and-restore races with threads.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every filesystem allows opening a directory.
    with contextlib.suppress(OSError):
        _fsync(str(directory))


def _wrap(exc: BaseException, destination: str) -> BaseException:
    if isinstance(exc, SoundryError) or not isinstance(exc, Exception):
        return exc
    if isinstance(exc, OSError):
        return EncodeError(f"{destination}: cannot write ({exc.strerror or exc})")
    return EncodeError(f"{destination}: encoding failed ({type(exc).__name__}: {exc})")


@contextmanager
def atomic_path(destination: Path) -> Iterator[Path]:
    """Yield a temp path in ``destination``'s directory; on success it replaces ``destination``.

    On any exception the temp file is removed and ``destination`` is left as it was; errors
    that are not already Soundry errors are raised as :class:`EncodeError`.
    """
    directory = destination.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise EncodeError(
            f"{destination}: cannot write in {directory} ({exc.strerror or exc})"
        ) from None
    os.close(fd)
    try:
        yield Path(tmp)
        _fsync(tmp)
        try:
            mode = os.stat(destination).st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, destination)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        wrapped = _wrap(exc, str(destination))
        if wrapped is exc:
            raise
        raise wrapped from exc
    _fsync_dir(directory)


@contextmanager
def scratch_path(suffix: str) -> Iterator[Path]:
    """A temp file for an encoder that needs a real path; removed afterwards, whatever happens."""
    fd, tmp = tempfile.mkstemp(prefix=".soundry-", suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
    except BaseException as exc:
        wrapped = _wrap(exc, "<bytes>")
        if wrapped is exc:
            raise
        raise wrapped from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
