"""Removing a folder that graded code has written in: however deep, without recursion, never outside it.

``shutil.rmtree`` recurses once per level, so a graded function that builds a tree a few thousand
folders deep makes it raise RecursionError in the grader. Here every operation is relative to a file
descriptor of the folder being removed or of one of its direct subfolders, opened without following
links: a subfolder is emptied of its files and empty folders, and its other folders are moved up into
the top one, to be taken apart in a later pass. A link is removed, never followed. Folders the code
made unreadable or read-only get mode 700 back first (their owner may; root needs no permission).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
MAX_OPERATIONS = 10_000_000  # removes and moves: a tree that something keeps growing is left behind, not chased


def remove_tree(path: Path) -> bool:
    """Remove ``path`` and everything in it; True if all of it went (errors leave the rest in place, silently)."""
    try:
        top = os.open(path, _DIRECTORY)
    except FileNotFoundError:
        return True
    except OSError:  # a file or a link: removed as such
        return bool(_attempt(os.unlink, path))
    names = (f".removing-{i}" for i in itertools.count())
    operations = 0
    try:
        with contextlib.suppress(OSError):
            os.fchmod(top, 0o700)
        while operations < MAX_OPERATIONS:
            with os.scandir(top) as entries:
                batch = [(e.name, e.is_dir(follow_symlinks=False)) for e in itertools.islice(entries, 10_000)]
            if not batch:
                break
            done = sum(_empty(top, name, is_dir, names) for name, is_dir in batch)
            if not done:
                return False  # nothing in this batch can be removed or moved
            operations += done
    finally:
        os.close(top)
    return bool(_attempt(os.rmdir, path))


@contextlib.contextmanager
def temporary_folder(prefix: str) -> Iterator[Path]:
    """A new private folder, removed with :func:`remove_tree` on the way out."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        remove_tree(folder)


def _empty(top: int, name: str, is_dir: bool, names: Iterator[str]) -> int:
    """Remove the entry ``name`` of ``top``, or take one level out of it; how many entries that removed or moved."""
    if not is_dir:
        return _attempt(os.unlink, name, dir_fd=top)
    if _attempt(os.rmdir, name, dir_fd=top):
        return 1
    try:
        folder = _open_folder(name, top)
    except OSError:
        return 0
    done = 0
    try:
        with os.scandir(folder) as entries:
            for entry in itertools.islice(entries, 10_000):
                if not entry.is_dir(follow_symlinks=False):
                    done += _attempt(os.unlink, entry.name, dir_fd=folder)
                elif _attempt(os.rmdir, entry.name, dir_fd=folder):
                    done += 1
                else:
                    done += _move_up(entry.name, folder, top, names)
    finally:
        os.close(folder)
    return done


def _open_folder(name: str, parent: int) -> int:
    """A descriptor of the folder ``name`` in ``parent``, which this process may list and change."""
    try:
        folder = os.open(name, _DIRECTORY, dir_fd=parent)
    except PermissionError:
        _unlock(name, parent)
        folder = os.open(name, _DIRECTORY, dir_fd=parent)
    with contextlib.suppress(OSError):
        os.fchmod(folder, 0o700)  # writable, so that its entries can be removed or moved
    return folder


def _unlock(name: str, parent: int) -> None:
    """Give the folder ``name`` in ``parent`` back to its owner (mode 700), through a descriptor that reads nothing
    (so that it can be had for a folder with no permissions at all) and does not follow a link."""
    handle = os.open(name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
    try:
        os.chmod(f"/proc/self/fd/{handle}", 0o700)
    finally:
        os.close(handle)


def _move_up(name: str, folder: int, top: int, names: Iterator[str]) -> int:
    """Move the folder ``name`` from ``folder`` into ``top`` under a new name; 1 if it moved."""
    for _ in range(100):
        try:
            os.rename(name, next(names), src_dir_fd=folder, dst_dir_fd=top)
            return 1
        except PermissionError:  # moving a folder rewrites its "..": it must be writable
            try:
                _unlock(name, folder)
            except OSError:
                return 0
        except OSError as exc:
            if exc.errno not in _TAKEN:
                return 0
    return 0


_TAKEN = {errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR}  # the new name is already used in ``top``: try the next


def _attempt(operation, *args, **kwargs) -> int:
    try:
        operation(*args, **kwargs)
        return 1
    except OSError:
        return 0
