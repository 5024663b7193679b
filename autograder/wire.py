"""Moving nested Python/numpy values between processes as plain data, never with pickle.

A value becomes a JSON *schema* (its structure and scalars) plus a dict of numpy arrays that
is stored with ``np.savez`` and read back with ``allow_pickle=False``. Anything that is not
plain data (an object with a custom ``__eq__``, a function, an object array) is recorded only
by its type name, so nothing the student defines can run in the grader's process.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

MAX_NODES = 20_000
MAX_DEPTH = 12
MAX_STR = 2_000

_SCALARS = (bool, int, float, str, type(None))


def pack(value: Any) -> tuple[dict, dict[str, np.ndarray]]:
    """Split ``value`` into (schema, arrays). Never raises on strange input."""
    arrays: dict[str, np.ndarray] = {}
    budget = [MAX_NODES]

    def walk(v: Any, depth: int) -> dict:
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_DEPTH:
            return {"t": "opaque", "type": "structure too large or too deep"}
        kind = type(v)  # exact type: a subclass of int or tuple is not trusted to behave
        if kind in _SCALARS:
            if kind is str and len(v) > MAX_STR:
                v = v[:MAX_STR]
            if kind is float and not np.isfinite(v):
                return {"t": "float", "v": repr(v)}
            return {"t": kind.__name__, "v": v}
        if isinstance(v, np.generic) and v.dtype.kind in "biuf":
            key = f"a{len(arrays)}"
            arrays[key] = np.array(v)
            return {"t": "array", "key": key, "cls": "numpy scalar"}
        if isinstance(v, np.ndarray):
            if v.dtype.kind not in "biuf":
                return {"t": "opaque", "type": f"ndarray of dtype {v.dtype}"}
            key = f"a{len(arrays)}"
            # Copy into a base-class array: a subclass's overridden methods never travel.
            arrays[key] = np.array(v, copy=True, subok=False)
            cls = None if kind is np.ndarray else kind.__name__
            return {"t": "array", "key": key, "cls": cls}
        if _is_torch_tensor(v):
            key = f"a{len(arrays)}"
            arrays[key] = np.array(v.detach().cpu().numpy(), copy=True, subok=False)
            return {"t": "array", "key": key, "cls": "torch.Tensor"}
        if kind in (tuple, list):
            return {"t": kind.__name__, "items": [walk(x, depth + 1) for x in v]}
        if kind is dict:
            items = []
            for k, x in v.items():
                if type(k) not in (str, int):
                    return {"t": "opaque", "type": "dict with non-str/int keys"}
                items.append([type(k).__name__, k, walk(x, depth + 1)])
            return {"t": "dict", "items": items}
        return {"t": "opaque", "type": kind.__name__}

    return walk(value, 0), arrays


def _is_torch_tensor(v: Any) -> bool:
    # Look torch up only if the caller imported it: a numpy assignment never pays for importing torch.
    torch = sys.modules.get("torch")
    return torch is not None and type(v) is torch.Tensor


def unpack(schema: dict, arrays: dict[str, np.ndarray]) -> Any:
    """Inverse of :func:`pack`. Opaque values come back as :class:`Opaque` markers.

    A forged schema gets no further than :func:`pack` would go: ValueError past MAX_DEPTH or MAX_NODES,
    and each array is handed out once (taken from ``arrays``), so one large array cannot be copied many times."""
    budget = [MAX_NODES]

    def walk(schema: dict, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_DEPTH + 1:
            raise ValueError("a schema larger or deeper than pack makes")
        t = schema["t"]
        if t in ("bool", "int", "str", "NoneType"):
            if type(schema["v"]).__name__ != t:  # a forged schema: "int" holding a list, say
                raise ValueError(f"a {t} that holds a {type(schema['v']).__name__}")
            return schema["v"]
        if t == "float":
            return float(schema["v"])
        if t == "array":
            return arrays.pop(schema["key"]).copy()
        if t == "tuple":
            return tuple(walk(s, depth + 1) for s in schema["items"])
        if t == "list":
            return [walk(s, depth + 1) for s in schema["items"]]
        if t == "dict":
            return {(int(k) if kt == "int" else k): walk(s, depth + 1) for kt, k, s in schema["items"]}
        return Opaque(str(schema.get("type", "?"))[:MAX_STR])

    return walk(schema, 0)


class Opaque:
    """Stands for a value that was not plain data; only its type name is known."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


def encode(value: Any) -> dict[str, bytes]:
    """``value`` as the bytes of the files that :func:`save` writes, by suffix."""
    schema, arrays = pack(value)
    npz = io.BytesIO()
    np.savez(npz, **arrays)
    return {".json": json.dumps(schema).encode(), ".npz": npz.getvalue()}


def write(path: Path, files: dict[str, bytes]) -> None:
    """Write what :func:`encode` gave to ``path.json`` + ``path.npz``."""
    for suffix, data in files.items():
        path.with_suffix(suffix).write_bytes(data)


def save(path: Path, value: Any) -> None:
    """Write ``value`` to ``path.json`` + ``path.npz``."""
    write(path, encode(value))


def load(path: Path) -> Any:
    """Read a value written by :func:`save`, trusting nothing about the files.

    They may come from a process that ran student code: each must be a regular file (not a link,
    a FIFO or a device) within a size cap, and the arrays are parsed here from their headers, so a
    forged file can neither unpickle anything, nor inflate (no compression is accepted), nor claim
    more memory than it holds, nor hold more arrays than a value may. Every shape, dtype and size is
    checked before any data is read; nothing is converted here. Raises ValueError (or OSError) on
    anything else.
    """
    schema = json.loads(read_regular(path.with_suffix(".json")))
    return unpack(schema, _read_npz(read_regular(path.with_suffix(".npz"), MAX_ARRAY_BYTES)))


MAX_SCHEMA_BYTES = 2 * 2**20  # the course's largest result schema is 4 KB
MAX_ARRAY_BYTES = 64 * 2**20  # its largest result's arrays are 1.6 MB; a wrong shape may be much larger
MAX_DIMS = 32


def read_regular(path: Path, limit: int = MAX_SCHEMA_BYTES) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes (links are not followed)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            raise ValueError(f"{path.name} is not a regular file of at most {limit} bytes")
        return f.read(limit)


def _read_npz(data: bytes) -> dict[str, np.ndarray]:
    # The zip's end record (the last 22 bytes: savez writes no comment) says how many members it has; zipfile
    # would build an object for each before anything could be checked.
    if data[-22:-18] != b"PK\x05\x06" or int.from_bytes(data[-12:-10], "little") > MAX_NODES:
        raise ValueError(f"not an archive of at most {MAX_NODES} arrays")
    arrays = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                raise ValueError(f"unexpected member {info.filename[:40]!r}")
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version not in ((1, 0), (2, 0)):
                    raise ValueError(f"unsupported .npy version {version}")
                read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, fortran, dtype = read_header(member)
                if dtype.hasobject or dtype.kind not in "biuf" or dtype.subdtype is not None:
                    raise ValueError(f"unexpected dtype {dtype}")
                if len(shape) > MAX_DIMS or any(d < 0 for d in shape):
                    raise ValueError(f"unexpected shape {shape[:MAX_DIMS + 1]}")
                nbytes = math.prod(shape) * dtype.itemsize
                raw = member.read(nbytes) if nbytes <= info.file_size else b""
                if len(raw) != nbytes:
                    raise ValueError(f"{info.filename[:40]!r} holds fewer bytes than its shape {shape} needs")
                arrays[info.filename[:-4]] = np.frombuffer(raw, dtype).reshape(shape, order="F" if fortran else "C")
    return arrays
