"""Reference helpers in a process of their own: graded code calls them and gets their results, never their code.

A function graded with reference helpers (``GradedFunction.uses``: ``rnn_forward`` calls the reference
``rnn_cell_forward``, so that a mistake in the learner's cell is not counted twice) must not hold those
helpers in its own process: anything there, code objects and source included, can be found and echoed
back through feedback. So the confined child forks a *helper process* before any student code runs
(:func:`start_helpers`); the helper reads the reference code, deletes the file it came in, makes itself
non-dumpable (no ptrace, no ``/proc/PID/mem``, even for the same uid) and then answers calls over a
socketpair. In the learner's process each helper is a :class:`Proxy`.

The two processes exchange plain data: JSON for the structure and raw buffers for arrays, never pickle.
What is not plain data travels *by reference*: the receiver gets a proxy, and each use of the proxy (a call,
an attribute, an item) is a request to the owner, which may call back in turn (the reference
``one_step_attention`` calls the learner's attention network; a learner's ``predict_and_sample`` calls the
reference ``music_inference`` with a model whose ``step`` the driver has wrapped). The semantics of one
process are kept where graded code relies on them:

* arguments changed in place by the callee (``optimize`` updates ``parameters``, samplers advance ``rng``)
  are sent back after the call and written into the caller's objects;
* numpy and torch generators travel as their state, and come back advanced;
* every message carries torch's grad mode and global random state, so a helper runs under the caller's
  ``torch.no_grad()`` and draws the numbers it would have drawn in-process (numpy numbers come from
  Generators passed as arguments, as everywhere in the course).

The learner's side is hostile, so the helper answers only: calls of what it was asked to export and of what
those return, attribute reads that give plain data or a method defined by the reference (or a few of
``nn.Module``'s, such as ``eval``), attribute writes of public names, and the functions registered with
:func:`beside_reference`. Exceptions come back as their type and message, never a traceback.
"""

from __future__ import annotations

import builtins
import ctypes
import functools
import json
import math
import os
import socket
import struct
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

_HEADER = struct.Struct("!II")  # JSON length, buffer length (the JSON lists the buffers' dtypes and shapes)
MAX_JSON = 64 * 2**20
MAX_BUFFERS = 1 << 30
MAX_ERROR = 300  # characters of an exception message passed on
# nn.Module methods a driver or a learner needs on a reference model; the rest (children, state_dict ...)
# would describe the reference's layers.
MODULE_METHODS = frozenset({"eval", "train", "forward", "requires_grad_", "zero_grad", "to", "float", "double"})
_BESIDE: dict[str, Callable] = {}


def beside_reference(fn: Callable) -> Callable:
    """Register ``fn`` (a public function of the course's own) to run in the helper process when one of its
    arguments is a reference object there: ``load_by_shape(model, weights)`` must fill the real model."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    _BESIDE[name] = fn

    def run(*args: Any, **kwargs: Any) -> Any:
        link = next((a._link for a in (*args, *kwargs.values()) if isinstance(a, Proxy)), None)
        return fn(*args, **kwargs) if link is None else link.request("apply", None, name, args, kwargs)

    run.__name__, run.__qualname__, run.__doc__, run.__module__ = fn.__name__, fn.__qualname__, fn.__doc__, fn.__module__
    return run


class HelperGone(RuntimeError):
    """The other process closed the link (it ended, or was killed)."""


class Proxy:
    """An object of the other process: every use is a request to it."""

    __slots__ = ("_link", "_id", "__weakref__")

    def __init__(self, link: Link, ident: int):
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_id", ident)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._link.request("call", self._id, None, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # Python and numpy probe for protocols this way: none is forwarded
            raise AttributeError(name)
        return self._link.request("getattr", self._id, name, (), {})

    def __setattr__(self, name: str, value: Any) -> None:
        self._link.request("setattr", self._id, name, (value,), {})

    def __getitem__(self, key: Any) -> Any:
        return self._link.request("getitem", self._id, None, (key,), {})

    def __setitem__(self, key: Any, value: Any) -> None:
        self._link.request("setitem", self._id, None, (key, value), {})

    def __contains__(self, key: Any) -> bool:
        return self._link.request("contains", self._id, None, (key,), {})

    def __len__(self) -> int:
        return self._link.request("len", self._id, None, (), {})

    def __iter__(self) -> Any:
        return self._link.request("iter", self._id, None, (), {})

    def __next__(self) -> Any:
        return self._link.request("next", self._id, None, (), {})

    def __bool__(self) -> bool:
        return self._link.request("bool", self._id, None, (), {})

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self._link.request("array", self._id, None, (), {}), dtype=dtype)

    def __repr__(self) -> str:
        return f"<object of the {'reference helpers' if self._link.guarded else 'graded code'}>"


def _torch():
    return sys.modules.get("torch")  # never imported here: a numpy assignment does not pay for torch


class Link:
    """One end of the socketpair between the learner's process and the helper process.

    ``guarded``: this end serves a hostile peer (the helper's end), so only the requests listed in the
    module docstring are answered.
    """

    def __init__(self, sock: socket.socket, guarded: bool):
        self._sock, self.guarded = sock, guarded
        self._objects: dict[int, Any] = {}  # handle -> object of ours that the peer may use
        self._handles: dict[int, int] = {}  # id(object) -> handle, so an object keeps one handle
        self._lock = threading.RLock()  # one exchange at a time; a callback served inside it re-enters
        self._pending = bytearray()  # read from the socket, not yet taken

    # ------------------------------------------------------------------ requests
    def export(self, obj: Any) -> int:
        key = id(obj)
        if key not in self._handles:
            self._handles[key] = len(self._objects)
            self._objects[self._handles[key]] = obj
        return self._handles[key]

    def request(self, op: str, target: int | None, name: str | None, args: tuple, kwargs: dict) -> Any:
        with self._lock:
            out = _Outgoing()
            message = {"op": op, "target": target, "name": name, "args": self._encode(list(args), out),
                       "kwargs": self._encode(dict(kwargs), out), "context": _context(out)}
            self._send(message, out.arrays)
            while True:
                reply, arrays = self._receive()
                if reply.get("op") not in ("ok", "error"):
                    self._serve(reply, arrays)  # the peer calls back before it answers
                    continue
                _adopt(reply.get("context"), arrays)
                if reply["op"] == "error":
                    raise _exception(reply.get("type"), reply.get("message"))
                for original, final in zip((*args, *kwargs.values()), self._decode(reply["back"], arrays)):
                    _write_back(original, final)
                return self._decode(reply["value"], arrays, echoes=out.origins)

    def serve_forever(self) -> None:
        """Answer the peer's requests until it closes the link."""
        while True:
            try:
                message, arrays = self._receive()
            except HelperGone:
                return
            self._serve(message, arrays)

    # ------------------------------------------------------------------ serving
    def _serve(self, message: dict, arrays: list[np.ndarray]) -> None:
        out = _Outgoing()
        try:
            _adopt(message.get("context"), arrays)
            made: dict[int, tuple[int, Any]] = {}  # id of each array or tensor made from the request -> (index, it)
            args = self._decode(message["args"], arrays, made=made)
            kwargs = self._decode(message["kwargs"], arrays, made=made)
            if type(args) is not list or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
                raise TypeError("malformed request")
            given = (*args, *kwargs.values())
            before = [_state(a) for a in given]
            value = self._perform(message.get("op"), message.get("target"), message.get("name"), args, kwargs)
            # Arguments the callee changed in place go back with the result (None: unchanged).
            back = [a if _state(a) != state else None for a, state in zip(given, before)]
            # An argument returned as it is (a cache that holds c_prev) is the caller's own object again.
            reply = {"op": "ok", "value": self._encode(value, _Outgoing(echo=made, shared=out)),
                     "back": self._encode(back, out)}
        except BaseException as exc:  # noqa: BLE001 - every failure is the caller's exception, not ours
            out = _Outgoing()
            reply = {"op": "error", "type": type(exc).__name__[:100], "message": _message(exc)}
        reply["context"] = _context(out)
        self._send(reply, out.arrays)

    def _perform(self, op: Any, target: Any, name: Any, args: list, kwargs: dict) -> Any:
        if op == "apply":
            if name not in _BESIDE:
                raise PermissionError(f"{name} does not run beside the reference")
            return _BESIDE[name](*args, **kwargs)
        obj = self._objects[target] if type(target) is int and target in self._objects else None
        if obj is None:
            raise LookupError("no such object")
        if op == "call":
            return obj(*args, **kwargs)
        if op == "getattr" and type(name) is str:
            return self._attribute(obj, name)
        if op == "setattr" and type(name) is str and len(args) == 1:
            if name.startswith("_"):
                raise AttributeError(f"{name} cannot be set from graded code")
            setattr(obj, name, args[0])
            return None
        if self.guarded:  # the learner's side may call and read attributes, nothing more
            raise TypeError(f"{op} is not available on the reference's objects")
        protocol = {"getitem": lambda: obj[args[0]], "setitem": lambda: obj.__setitem__(args[0], args[1]),
                    "contains": lambda: args[0] in obj, "len": lambda: len(obj), "iter": lambda: iter(obj),
                    "next": lambda: next(obj), "bool": lambda: bool(obj), "array": lambda: np.asarray(obj)}
        if op not in protocol:
            raise TypeError(f"unknown request {op!r}")
        return protocol[op]()

    def _attribute(self, obj: Any, name: str) -> Any:
        if not self.guarded:
            return getattr(obj, name)
        if name.startswith("_"):
            raise AttributeError(f"{name} of the reference is not available to graded code")
        value = getattr(obj, name)
        if _plain(value):
            return value
        function = getattr(value, "__func__", value)
        code = getattr(function, "__code__", None)
        if isinstance(code, types.CodeType) and code.co_filename.startswith("<reference "):
            return value  # a method the reference defines: calling it is what the helper is for
        torch = _torch()
        if torch is not None and isinstance(obj, torch.nn.Module) and name in MODULE_METHODS:
            return value
        raise AttributeError(f"{name} of the reference is not available to graded code")

    # ------------------------------------------------------------------ encoding
    def _encode(self, value: Any, out: _Outgoing) -> Any:
        """A JSON node for ``value``; arrays go to ``out`` (one buffer per array object, so that aliases stay
        aliases), and what is not plain data becomes a handle."""
        kind = type(value)
        if id(value) in out.echo:
            return {"t": "echo", "i": out.echo[id(value)][0]}
        if value is None or kind in (bool, int, str):
            return value
        if kind is float:
            return {"t": "float", "v": repr(value)}
        if kind in (list, tuple):
            return {"t": kind.__name__, "items": [self._encode(v, out) for v in value]}
        if kind is dict and all(type(k) in (str, int) for k in value):
            return {"t": "dict", "items": [[k, self._encode(v, out)] for k, v in value.items()]}
        if kind is np.ndarray and value.dtype.kind in "biufc":
            return {"t": "nd", "i": out.add(value, value)}
        if isinstance(value, np.generic) and value.dtype.kind in "biufc":
            return {"t": "scalar", "i": out.add(np.asarray(value), value)}
        if kind is slice:
            return {"t": "slice", "items": self._encode([value.start, value.stop, value.step], out)}
        if kind is np.random.Generator:
            return {"t": "rng", "bits": type(value.bit_generator).__name__,
                    "state": self._encode(value.bit_generator.state, out)}
        torch = _torch()
        if torch is not None:
            if isinstance(value, torch.Tensor) and value.dtype in _numpy_dtypes(torch):
                return {"t": "tensor", "i": out.add(value.detach().cpu().numpy(), value),
                        "grad": bool(value.requires_grad)}
            if kind is torch.Generator:
                return {"t": "torch_rng", "i": out.add(value.get_state().numpy(), value)}
            if isinstance(value, torch.dtype):
                return {"t": "torch_dtype", "v": str(value).removeprefix("torch.")}
        if isinstance(value, Proxy) and value._link is self:
            return {"t": "yours", "id": value._id}
        return {"t": "mine", "id": self.export(value)}

    def _decode(self, node: Any, arrays: list[np.ndarray], made: dict[int, tuple[int, Any]] | None = None,
                echoes: list | None = None) -> Any:
        """The value of ``node``. ``made`` collects the arrays and tensors made from ``arrays`` (by id, for
        echoes); ``echoes`` are the objects the request sent, which an echo node returns."""
        if node is None or type(node) in (bool, int, str):
            return node
        if type(node) is not dict:
            raise TypeError("malformed value")
        t = node.get("t")
        if t == "float":
            return float(node["v"])
        if t in ("list", "tuple"):
            items = [self._decode(v, arrays, made, echoes) for v in node["items"]]
            return items if t == "list" else tuple(items)
        if t == "dict":
            return {k: self._decode(v, arrays, made, echoes) for k, v in node["items"] if type(k) in (str, int)}
        if t == "nd":
            if made is not None:
                made[id(arrays[node["i"]])] = node["i"], arrays[node["i"]]
            return arrays[node["i"]]
        if t == "echo" and echoes is not None:
            return echoes[node["i"]]
        if t == "scalar":
            return arrays[node["i"]][()]
        if t == "slice":
            return slice(*self._decode(node["items"], arrays))
        if t == "rng":
            bits = getattr(np.random, str(node["bits"]), None)
            if bits not in (np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox,
                            np.random.SFC64):
                raise TypeError("unknown bit generator")
            generator = bits()
            generator.state = self._decode(node["state"], arrays)
            return np.random.Generator(generator)
        torch = _torch()
        if t == "tensor" and torch is not None:
            tensor = torch.from_numpy(arrays[node["i"]])
            if node.get("grad") is True and tensor.is_floating_point():
                tensor.requires_grad_()
            if made is not None:
                made[id(tensor)] = node["i"], tensor  # held, so that its id stays its own
            return tensor
        if t == "torch_rng" and torch is not None:
            generator = torch.Generator()
            generator.set_state(torch.from_numpy(arrays[node["i"]]))
            return generator
        if t == "torch_dtype" and torch is not None:
            dtype = getattr(torch, str(node["v"]), None)
            if not isinstance(dtype, torch.dtype):
                raise TypeError("unknown dtype")
            return dtype
        if t == "yours" and type(node.get("id")) is int and node["id"] in self._objects:
            return self._objects[node["id"]]
        if t == "mine" and type(node.get("id")) is int:
            return Proxy(self, node["id"])
        raise TypeError("malformed value")

    # ------------------------------------------------------------------ framing
    def _send(self, message: dict, buffers: list[np.ndarray]) -> None:
        message["arrays"] = [[a.dtype.str, a.shape] for a in buffers]
        text = json.dumps(message).encode()
        data = b"".join([a.tobytes() for a in buffers])
        try:
            self._sock.sendall(_HEADER.pack(len(text), len(data)) + text + data)
        except OSError as exc:
            raise HelperGone(f"the other process has ended ({exc.strerror})") from None

    def _receive(self) -> tuple[dict, list[np.ndarray]]:
        text_length, data_length = _HEADER.unpack(self._exactly(_HEADER.size))
        if text_length > MAX_JSON or data_length > MAX_BUFFERS:
            raise HelperGone("a message over the size limit")
        body = self._exactly(text_length + data_length)
        message = json.loads(body[:text_length])
        layout = message.pop("arrays", None) if type(message) is dict else None
        if type(layout) is not list:
            raise HelperGone("a malformed message")
        data = memoryview(body)[text_length:]
        arrays, offset = [], 0
        for item in layout:
            dtype, shape = item if type(item) is list and len(item) == 2 else (None, None)
            dtype = _DTYPES.get(dtype) if type(dtype) is str else None
            if dtype is None or type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
                raise HelperGone("a malformed array")
            size = math.prod(shape) * dtype.itemsize
            if offset + size > len(data):
                raise HelperGone("an array larger than its message")
            arrays.append(np.frombuffer(data[offset:offset + size], dtype).reshape(shape).copy())  # aligned, its own
            offset += size
        return message, arrays

    def _exactly(self, n: int) -> bytes:
        """The next ``n`` bytes. A small message comes whole in one read: its header's read takes its body too."""
        while len(self._pending) < n:
            try:
                chunk = self._sock.recv(min(max(n - len(self._pending), 1 << 16), 1 << 20))
            except OSError:
                chunk = b""
            if not chunk:
                raise HelperGone("the other process has ended")
            self._pending += chunk
        data = bytes(self._pending[:n])
        del self._pending[:n]
        return data


# The array types that travel, by the name numpy gives them in a message (little- and big-endian).
_DTYPES = {np.dtype(f"{order}{code}").str: np.dtype(f"{order}{code}") for order in "<>"
           for code in ("?", "b", "B", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "g", "c8", "c16", "G")}


@functools.cache
def _numpy_dtypes(torch: types.ModuleType) -> frozenset:
    """The torch dtypes that numpy can hold, so that a tensor of one travels as an array."""
    return frozenset({torch.float16, torch.float32, torch.float64, torch.int8, torch.int16, torch.int32,
                      torch.int64, torch.uint8, torch.bool, torch.complex64, torch.complex128})


def _message(exc: BaseException) -> str:
    try:
        return str(exc)[:MAX_ERROR]
    except BaseException:  # noqa: BLE001 - a learner's exception whose __str__ raises
        return "(no message)"


class _Outgoing:
    """The arrays of one message, and for each the object it came from (an array, a tensor, a generator)."""

    def __init__(self, echo: dict[int, tuple[int, Any]] | None = None, shared: _Outgoing | None = None):
        self.arrays: list[np.ndarray] = shared.arrays if shared else []
        self.origins: list[Any] = shared.origins if shared else []
        self._index: dict[int, int] = shared._index if shared else {}
        self.echo = echo or {}  # id of an object made from the request being answered -> (its index there, it)

    def add(self, array: np.ndarray, origin: Any) -> int:
        """The index of ``origin``'s buffer: one per object, so that two references to it stay one object."""
        if id(origin) not in self._index:
            self._index[id(origin)] = len(self.arrays)
            self.arrays.append(array)
            self.origins.append(origin)
        return self._index[id(origin)]


def _plain(value: Any) -> bool:
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) is tuple:
        return all(_plain(v) for v in value)
    torch = _torch()
    return isinstance(value, np.ndarray) or (torch is not None and isinstance(value, torch.Tensor))


def _state(value: Any, depth: int = 0) -> Any:
    """What an argument holds, to tell whether a call changed it in place: contents, and which object sits in
    each place of a container (a rebound entry is a change even when its value is equal)."""
    if isinstance(value, np.ndarray):
        return id(value), value.shape, value.dtype.str, value.tobytes()
    if depth < 8 and type(value) in (dict, list):
        items = value.items() if type(value) is dict else enumerate(value)
        return type(value), tuple((k, id(v), _state(v, depth + 1)) for k, v in items)
    if isinstance(value, np.random.Generator):
        return repr(value.bit_generator.state)
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor) and value.dtype in _numpy_dtypes(torch):
        return id(value), tuple(value.shape), value.detach().cpu().numpy().tobytes()
    if torch is not None and isinstance(value, torch.Generator):
        return value.get_state().numpy().tobytes()
    return id(value)


def _write_back(original: Any, final: Any) -> None:
    """Make ``original`` (the caller's argument) look as the callee left its copy, ``final``, in place."""
    if final is None or original is final:
        return
    torch = _torch()
    # Arrays and tensors are written only where the callee changed them: most arguments come back as they
    # went, and some cannot be written at all (read-only, or broadcast views whose elements share memory).
    if isinstance(original, np.ndarray) and isinstance(final, np.ndarray):
        if original.shape == final.shape and original.flags.writeable and not np.array_equal(original, final):
            np.copyto(original, final, casting="unsafe")
    elif type(original) is dict and type(final) is dict:
        for key in [k for k in original if k not in final]:
            del original[key]
        for key, value in final.items():
            if key in original and _same_container(original[key], value):
                _write_back(original[key], value)
            else:
                original[key] = value
    elif type(original) is list and type(final) is list:
        if len(original) == len(final):
            for i, value in enumerate(final):
                if _same_container(original[i], value):
                    _write_back(original[i], value)
                else:
                    original[i] = value
        else:
            original[:] = final
    elif isinstance(original, np.random.Generator) and isinstance(final, np.random.Generator):
        original.bit_generator.state = final.bit_generator.state
    elif torch is not None and isinstance(original, torch.Generator) and isinstance(final, torch.Generator):
        original.set_state(final.get_state())
    elif torch is not None and isinstance(original, torch.Tensor) and isinstance(final, torch.Tensor):
        if original.shape == final.shape and not torch.equal(original, final.to(original.dtype)):
            with torch.no_grad():
                original.copy_(final)


def _same_container(a: Any, b: Any) -> bool:
    return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape) or \
        (type(a) is type(b) and type(a) in (dict, list))


def _context(out: _Outgoing) -> dict:
    """What one process shares with itself across a call: torch's grad mode and global random state.

    numpy's legacy global generator is not shared: the course's code draws numpy numbers from Generators
    passed as arguments (which travel with their state), and copying that state both ways costs more than
    the rest of a small call."""
    context: dict[str, Any] = {}
    torch = _torch()
    if torch is not None:
        context["grad"] = torch.is_grad_enabled()
        state = torch.get_rng_state()
        context["torch"] = out.add(state.numpy(), state)
    return context


def _adopt(context: Any, arrays: list[np.ndarray]) -> None:
    if type(context) is not dict:
        return
    torch = _torch()
    if torch is not None and "grad" in context:
        torch.set_grad_enabled(bool(context["grad"]))
        torch.set_rng_state(torch.from_numpy(arrays[context["torch"]]))


def _exception(type_name: Any, message: Any) -> BaseException:
    """The caller's exception for the callee's: the same builtin type where there is one."""
    cls = getattr(builtins, str(type_name), None)
    text = str(message)[:MAX_ERROR]
    if isinstance(cls, type) and issubclass(cls, BaseException) and cls not in (SystemExit, KeyboardInterrupt):
        try:
            return cls(text)
        except Exception:  # noqa: BLE001 - an exception class with other required arguments
            pass
    return RuntimeError(f"{type_name}: {text}")


# ---------------------------------------------------------------------- the helper process

_PR_SET_DUMPABLE = 4


def start_helpers(code_file: Path, names: tuple[str, ...],
                  build: Callable[[list], tuple[dict, list[str]]]) -> tuple[dict[str, Proxy], list[str]]:
    """Fork the helper process, which builds the reference code in ``code_file`` with ``build`` and exports
    ``names``; returns the proxies, and the problems met while building it.

    Call it before any student code runs: the file is read and deleted by the helper alone, so the
    learner's process never holds the reference code, and it is gone before the learner's code can look."""
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # the helper
        code = 0
        try:
            ours.close()
            if sys.platform.startswith("linux"):  # no ptrace and no /proc/PID/mem of it, even for the same uid
                ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
            statements = json.loads(code_file.read_text())
            code_file.unlink()
            namespace, problems = build(statements)
            link = Link(theirs, guarded=True)
            exported = [link.export(namespace.get(name)) for name in names]
            link._send({"op": "ready", "exported": exported, "problems": problems[:3]}, [])
            link.serve_forever()
        except BaseException:  # noqa: BLE001 - the learner's side sees the link close
            code = 1
        finally:
            os._exit(code)
    theirs.close()
    link = Link(ours, guarded=False)
    try:
        ready, _ = link._receive()
    except HelperGone:
        return {}, ["the reference helpers could not be started"]
    proxies = {name: Proxy(link, ident) for name, ident in zip(names, ready.get("exported", []))}
    return proxies, [str(p) for p in ready.get("problems", [])]

