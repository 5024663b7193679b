"""A check pack's values as data: JSON nodes, and a pool of distinct arrays kept in one buffer per dtype.

Used by :mod:`autograder.packbuild` to write a pack and by :mod:`autograder.checkpack` to read it. Values go
through :mod:`autograder.wire` (never pickle); arrays are stored once each, and an array much like one stored
before it as a difference from that one.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from autograder import wire
from autograder.replay import Message

JSON_NAME, ARRAYS_NAME = "pack.json.gz", "arrays.npz"


class Writer:
    """Values, arrays and messages as JSON nodes plus a pool of distinct arrays, kept in one buffer per dtype.

    An array that agrees in at least half of its elements with one written before it (an output that differs
    from its input only where a clip was inserted; a variant's output that differs from the expected one in a
    few places) is stored as its difference from that one, which is zero where they agree and compresses to
    little: a bitwise XOR, exact, or from an external array (below) an arithmetic difference, which stays right
    within a rounding when the reader's external array differs from ours in the last bits (probes drawn on
    another machine). Differences are taken from what the reader rebuilds, so rounding never adds up.

    *External* arrays are not stored at all: the reader gets them from the probes it draws again with the
    assignment's own code (:meth:`external`). They serve only the function they belong to.
    """

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []  # as the reader rebuilds them
        self.stored: list[np.ndarray | None] = []  # what is written: the array, its difference, or None (external)
        self.bases: list[int] = []  # per array: the array it is a difference from, or -1
        self.externals: dict[int, str] = {}
        self.scope: str | None = None  # the function being written
        self._scopes: list[str | None] = []  # per array: the function whose external arrays it needs, if any
        self._index: dict[bytes, list[int]] = {}
        self._alike: dict[tuple, list[int]] = {}  # (dtype, shape) -> the arrays of that kind, latest last
        self.values: list[int | dict] = []
        self._value_index: dict[str, int] = {}

    def external(self, name: str, a: np.ndarray) -> None:
        """An array of the current function's probes, which the reader draws again and gives as ``name``."""
        index = self._add(_contiguous(a), None, -1, self.scope)
        self.externals[index] = name

    def array(self, a: np.ndarray) -> int:
        a = _contiguous(a)
        for j in self._index.get(_digest(a), []):
            if self._usable(j):
                return j
        base = self._base(a)
        if base < 0:
            return self._add(a, a, -1, None)
        scope = self._scopes[base]
        rebuilt, difference = _rebuild(self.arrays[base], a, exact=scope is None)
        index = self._add(rebuilt, difference, base, scope)
        self._index.setdefault(_digest(a), []).append(index)
        return index

    def _add(self, rebuilt: np.ndarray, stored: np.ndarray | None, base: int, scope: str | None) -> int:
        index = len(self.arrays)
        self._index.setdefault(_digest(rebuilt), []).append(index)
        self._alike.setdefault((rebuilt.dtype.str, rebuilt.shape), []).append(index)
        self.arrays.append(rebuilt)
        self.stored.append(stored)
        self.bases.append(base)
        self._scopes.append(scope)
        return index

    def _usable(self, j: int) -> bool:
        return self._scopes[j] in (None, self.scope)

    def _base(self, a: np.ndarray) -> int:
        """The usable array of the same kind that agrees with ``a`` in the most elements (at least half), or -1."""
        best, most = -1, a.size // 2
        if a.size < BASE_MIN_SIZE or a.dtype.kind not in "biuf" or (a.dtype.kind == "f" and not np.isfinite(a).all()):
            return best
        for j in reversed(self._alike.get((a.dtype.str, a.shape), [])[-BASE_CANDIDATES:]):
            b = self.arrays[j]
            if self._usable(j) and (b.dtype.kind != "f" or np.isfinite(b).all()):
                same = int(np.count_nonzero(b == a))
                if same > most:
                    best, most = j, same
        return best

    def value(self, v: Any, single_above: int | None = None) -> int:
        """The index of ``v`` (as :mod:`autograder.wire` carries it) in the table of values; equal values share one.

        ``single_above``: for a value only ever compared within a relative tolerance of at least 1e-6 of its scale
        (an expected result, what a variant or a mistake returns, never what a helper answers), its float64 arrays
        of more than this many numbers are kept as float32, whose rounding is 6e-8 of the scale, unless they are
        mostly equal to an array written already."""
        schema, arrays = wire.pack(v)
        if single_above is not None:
            arrays = {k: self._narrowed(a) if a.size > single_above else a for k, a in arrays.items()}
        if schema.get("t") == "array" and schema.get("cls") is None:
            entry: int | dict = self.array(arrays[schema["key"]])  # a plain array, the commonest value
        else:
            entry = {"v": schema, "k": {local: self.array(a) for local, a in arrays.items()}}
        key = json.dumps(entry, sort_keys=True)
        if key not in self._value_index:
            self._value_index[key] = len(self.values)
            self.values.append(entry)
        return self._value_index[key]

    def _narrowed(self, a: np.ndarray) -> np.ndarray:
        if a.dtype != np.float64 or self._base(_contiguous(a)) >= 0:
            return a
        finite = a[np.isfinite(a)]
        return a if finite.size and np.max(np.abs(finite)) > 1e37 else a.astype(np.float32)

    def fork(self) -> Writer:
        """A copy to write into on trial, leaving this one as it is (the arrays themselves are shared)."""
        other = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, (list, dict)):
                setattr(other, name, {k: list(v) if isinstance(v, list) else v for k, v in value.items()}
                        if isinstance(value, dict) else list(value))
        return other

    def stored_numbers(self) -> int:
        """How many numbers the arrays written so far take: a difference counts only where it is not zero."""
        return sum(int(s.size if b < 0 else np.count_nonzero(s)) for s, b in zip(self.stored, self.bases)
                   if s is not None)

    def message(self, message: Message) -> list:
        body, arrays = message
        return [body, [self.array(a) for a in arrays]]

    def save(self, folder: Path, document: dict) -> None:
        """``pack.json.gz``, and ``arrays.npz``: the stored arrays back to back, one buffer per dtype (its bytes
        grouped by their place in the number, which compresses better), and every array's dtype, shape and base."""
        dtypes = list(dict.fromkeys(a.dtype.str for a in self.arrays))
        data = {f"d{i}": _shuffled(np.concatenate([s.ravel() for s in self.stored
                                                    if s is not None and s.dtype.str == d] or [np.zeros(0, d)]))
                for i, d in enumerate(dtypes)}
        data["kinds"] = np.array([dtypes.index(a.dtype.str) for a in self.arrays], dtype=np.int64)
        data["ndims"] = np.array([a.ndim for a in self.arrays], dtype=np.int64)
        data["dims"] = np.array([n for a in self.arrays for n in a.shape], dtype=np.int64)
        data["bases"] = np.array(self.bases, dtype=np.int64)
        folder.mkdir(parents=True, exist_ok=True)
        document = {**document, "dtypes": dtypes, "externals": {str(i): n for i, n in self.externals.items()},
                    "values": self.values}
        with open(folder / JSON_NAME, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as z:
            z.write(json.dumps(document, separators=(",", ":")).encode())
        with open(folder / ARRAYS_NAME, "wb") as f:
            np.savez_compressed(f, **data)


BASE_MIN_SIZE = 64  # smaller arrays are stored as they are
BASE_CANDIDATES = 8  # how many of the latest arrays of the same kind are compared with a new one


def _contiguous(a: np.ndarray) -> np.ndarray:
    """``a`` in C order, with its shape (np.ascontiguousarray makes a 0-d array 1-d)."""
    return a if a.flags.c_contiguous else a.copy(order="C")


def _digest(a: np.ndarray) -> bytes:
    return hashlib.sha256(f"{a.dtype.str}{a.shape}".encode() + a.tobytes()).digest()


def _rebuild(base: np.ndarray, a: np.ndarray, exact: bool) -> tuple[np.ndarray, np.ndarray]:
    """(what the reader rebuilds, the difference stored) for ``a`` written as a difference from ``base``."""
    if exact or a.dtype.kind in "biu":
        difference = (_bits(a) ^ _bits(base)).view(a.dtype)
    else:
        difference = a - base
    return _combine(base, difference, exact), difference


def _combine(base: np.ndarray, difference: np.ndarray, exact: bool) -> np.ndarray:
    if exact or base.dtype.kind in "biu":
        return (_bits(base) ^ _bits(difference)).view(base.dtype)
    return base + difference


def _bits(a: np.ndarray) -> np.ndarray:
    return a.view(f"u{a.dtype.itemsize}")


def _shuffled(buffer: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(buffer.view(np.uint8).reshape(-1, buffer.itemsize).T).ravel()


def _unshuffled(data: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.ascontiguousarray(data.reshape(dtype.itemsize, -1).T).view(dtype).ravel()


class Reader:
    """The inverse of :class:`Writer`: every value read is a fresh copy. Arrays are rebuilt when first read;
    those that need a function's probes wait until :meth:`provide` has given them."""

    def __init__(self, folder: Path):
        with gzip.open(folder / JSON_NAME, "rb") as f:
            self.document = json.loads(f.read())
        dtypes = [np.dtype(d) for d in self.document["dtypes"]]
        with np.load(folder / ARRAYS_NAME, allow_pickle=False) as npz:
            buffers = [_unshuffled(npz[f"d{i}"], d) for i, d in enumerate(dtypes)]
            kinds, ndims, dims, self._bases = npz["kinds"], npz["ndims"], npz["dims"], npz["bases"]
        self._externals = {int(i): name for i, name in self.document["externals"].items()}
        self._names = {name: i for i, name in self._externals.items()}
        self._raw: list[np.ndarray | None] = []
        self._shapes: list[tuple[np.dtype, tuple[int, ...]]] = []
        starts, at = [0] * len(dtypes), 0
        for i, (kind, ndim) in enumerate(zip(kinds, ndims)):
            shape = tuple(int(n) for n in dims[at:at + ndim])
            at += ndim
            self._shapes.append((dtypes[kind], shape))
            if i in self._externals:
                self._raw.append(None)
                continue
            size = int(np.prod(shape))
            self._raw.append(buffers[kind][starts[kind]:starts[kind] + size].reshape(shape))
            starts[kind] += size
        self._rebuilt: dict[int, np.ndarray] = {}
        self._exact: dict[int, bool] = {}  # per array: whether it and its bases need no external array
        self._values = self.document["values"]

    def provide(self, name: str, a: np.ndarray) -> bool:
        """Give the external array ``name`` (False if the pack has none of that name, or of another kind)."""
        i = self._names.get(name)
        if i is None or self._shapes[i] != (a.dtype, a.shape):
            return i is None
        self._rebuilt.setdefault(i, _contiguous(a))
        return True

    def array(self, i: int) -> np.ndarray:
        if i not in self._rebuilt:
            if i in self._externals:
                raise LookupError(f"the array {self._externals[i]} comes from probes not drawn yet")
            base = int(self._bases[i])
            self._rebuilt[i] = self._raw[i] if base < 0 else _combine(self.array(base), self._raw[i],
                                                                        self._needs_none(base))
        return self._rebuilt[i]

    def _needs_none(self, i: int) -> bool:
        while i not in self._exact:
            if i in self._externals:
                self._exact[i] = False
            elif self._bases[i] < 0:
                self._exact[i] = True
            else:
                i = int(self._bases[i])
                continue
        return self._exact[i]

    def value(self, index: int) -> Any:
        entry = self._values[index]
        if isinstance(entry, int):
            return self.array(entry).copy()
        return wire.unpack(entry["v"], {local: self.array(i).copy() for local, i in entry["k"].items()})

    def message(self, stored: list) -> Message:
        body, arrays = stored
        return body, [self.array(i) for i in arrays]
