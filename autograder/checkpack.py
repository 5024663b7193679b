"""Check packs: what ``check()`` needs to judge a learner's function when the solutions are not there.

A released assignment ships ``assignments/<id>/check_pack/`` beside the student notebook. It is written by
``python -m autograder.packbuild <id>`` (:mod:`autograder.packbuild`) from the solution notebook, and holds
data only: ``pack.json.gz`` (structure, messages and small values, as gzipped JSON) and ``arrays.npz`` (each
distinct array once, read with ``allow_pickle=False``). For every graded function:

- the check probes, drawn from another random stream than the grader's (:data:`CHECK_STREAM`), and the
  reference's outputs on them. Where the assignment's public spec draws the probes without more of the
  reference than the pack can answer, the learner's kernel draws them again, and the pack holds only what tells
  that they are the same;
- what each of the assignment's named mistakes would return on them (its prediction, computed once);
- the outputs of the one-slip variants of the reference (:mod:`autograder.variants`) on them, under their
  messages;
- which of the reference's outputs share memory, and its data flow (:mod:`autograder.dataflow`) cut down to
  what the messages use, with every variable that no message names renamed ``v1``, ``v2``, ...;
- for a function graded with the reference's helpers (``uses``), the conversation between the reference
  function and those helpers on each probe, in the form of :mod:`autograder.remote` (the grader's helper
  process): each request it sent, each call back, each answer. A learner's function that makes the same
  requests gets the same answers (:class:`Replay`), so a correct function passes even when the learner's own
  helpers are wrong; a request the pack does not hold is a *miss*, and check() runs that probe again with the
  learner's own helpers, and says so;
- the same for what the checks themselves ask of the reference (Jazz's teacher forcing asks its model), and
  the values of the public constants (``N_VALUES``) they read.

No code of the reference is in a pack: no source, no bytecode, no pickle.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import functools
import gzip
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from autograder import remote, runtime, wire
from autograder.dataflow import Flow
from autograder.spec import Assignment, GradedFunction, Namespace, Probe

FORMAT = 1
CHECK_STREAM = 1  # the grader draws a function's probes from [seed, index]; a check, from [seed, index, 1]
FOLDER = "check_pack"
JSON_NAME, ARRAYS_NAME = "pack.json.gz", "arrays.npz"

Message = tuple[dict, list[np.ndarray]]  # a message of autograder.remote: its JSON part and its arrays


def summary(kwargs: dict) -> list:
    """A probe's arguments in brief, to tell that probes drawn again are the ones the pack was built on: their
    structure and scalars, and each array's dtype, shape and sums."""
    schema, arrays = wire.pack(kwargs)
    return [schema, {k: [a.dtype.str, list(a.shape), float(np.sum(a, dtype=np.float64)),
                         float(np.sum(np.abs(a), dtype=np.float64))] for k, a in arrays.items()}]


def same_summary(recorded: list, live: list) -> bool:
    (schema, arrays), (live_schema, live_arrays) = recorded, json.loads(json.dumps(live))
    if schema != live_schema or arrays.keys() != live_arrays.keys():
        return False
    return all(a[:2] == b[:2] and all(abs(x - y) <= 1e-9 * (1 + abs(x)) for x, y in zip(a[2:], b[2:]))
               for a, b in ((arrays[k], live_arrays[k]) for k in arrays))


def check_rng(seed: int, index: int) -> np.random.Generator:
    """The generator that draws a function's check probes: never the grader's ``[seed, index]``."""
    return np.random.default_rng([seed, index, CHECK_STREAM])


# ---------------------------------------------------------------------- values as data

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


# ---------------------------------------------------------------------- a conversation with the helpers

@dataclass
class Exchange:
    """One request the function sent to the helpers, and what came back: the helpers' calls back to the
    function (each with the answer the function gave) in order, and last the reply."""

    request: Message
    steps: list[tuple[str, Message]] = field(default_factory=list)  # ("in", from the helpers) or ("out", ours)


def exchanges(events: list[tuple[str, Message]]) -> list[Exchange]:
    """The exchanges of a recorded stream of messages ("out": sent by the function's side, "in": received).

    A request made while a call back is served (the driver's wrapped ``model.step`` calling the real one) is an
    exchange of its own."""
    done: list[Exchange] = []
    open_: list[Exchange] = []
    for direction, message in events:
        op = message[0].get("op")
        if direction == "out" and op not in ("ok", "error"):
            open_.append(Exchange(message))
            continue
        if not open_:
            raise ValueError("a message outside any request")
        open_[-1].steps.append((direction, message))
        if direction == "in" and op in ("ok", "error"):
            done.append(open_.pop())
    if open_:
        raise ValueError("a request that was never answered")
    return done


class PackMiss(RuntimeError):
    """The function made a request (or answered a call back) in a way the check pack holds no answer for."""


class Replay(remote.Link):
    """The function's end of a link to the reference helpers, answered from a recorded conversation.

    A request is matched to a recorded one with the same operation, target and structure, whose arrays are
    equal (floating-point ones within ``rtol`` of their scale, as verdicts are). The helpers' calls back are
    made again, on the function's own objects, and their answers must match the recorded ones too. Torch's
    grad mode and global random state travel as they would: a recorded call that drew nothing from torch's
    global generator leaves the caller's state as it is, and one that drew is matched on that state as well.
    """

    def __init__(self, recorded: list[Exchange], rtol: float):
        super().__init__(None, guarded=False)
        self._recorded, self._rtol = recorded, rtol
        self._used: set[int] = set()
        self._playing: list[collections.deque] = []  # the steps still to play of each open exchange
        self.missed = ""  # what the pack had no answer for, once a request missed

    def _send(self, message: dict, buffers: list[np.ndarray]) -> None:
        message = json.loads(json.dumps(message))  # as recorded: plain JSON
        if message.get("op") in ("ok", "error"):  # the function's answer to a call back
            expected = self._playing[-1].popleft() if self._playing and self._playing[-1] else None
            if expected is None or expected[0] != "out" or not self._same(expected[1], (message, buffers)):
                self._miss("a call back got another answer than the reference's")
            return
        chosen = None
        for i, exchange in enumerate(self._recorded):
            if self._matches(exchange, (message, buffers)):
                chosen = i
                if i not in self._used:
                    break
        if chosen is None:
            self._miss(_describe(message))
        self._used.add(chosen)
        self._playing.append(collections.deque(self._played(self._recorded[chosen], (message, buffers))))

    def _receive(self) -> Message:
        steps = self._playing[-1] if self._playing else None
        if not steps or steps[0][0] != "in":
            self._miss("the function did not answer a call back as the reference did")
        _, (body, arrays) = steps.popleft()
        if body.get("op") in ("ok", "error"):
            self._playing.pop()
        return json.loads(json.dumps(body)), [a.copy() for a in arrays]

    def _miss(self, what: str) -> None:
        self.missed = self.missed or what
        raise PackMiss(f"the check pack holds no answer for this: {what}")

    # ------------------------------------------------------------------ matching
    def _matches(self, exchange: Exchange, live: Message) -> bool:
        recorded = exchange.request
        if not self._same(recorded, live):
            return False
        # A call that changed torch's global random state depends on it: then the state must be the same.
        start = _torch_state(recorded)
        drew = start is not None and any(d == "in" and not _equal(_torch_state(m), start) for d, m in exchange.steps)
        return not drew or _equal(_torch_state(live), start)

    def _same(self, recorded: Message, live: Message) -> bool:
        """Equal messages, leaving out their context (grad mode, torch's random state)."""
        (body, arrays), (live_body, live_arrays) = recorded, live
        if {k: v for k, v in body.items() if k != "context"} != {k: v for k, v in live_body.items() if k != "context"}:
            return False
        ours, theirs = _without_context(body, arrays), _without_context(live_body, live_arrays)
        return len(ours) == len(theirs) and all(_close(a, b, self._rtol) for a, b in zip(ours, theirs))

    def _played(self, exchange: Exchange, live: Message) -> Iterator[tuple[str, Message]]:
        """The exchange's steps, with the context the live request brings where the recorded one passed it on."""
        recorded_body, _ = exchange.request
        live_body, live_arrays = live
        start, live_state = _torch_state(exchange.request), _torch_state(live)
        for direction, (body, arrays) in exchange.steps:
            context = body.get("context")
            if direction == "in" and isinstance(context, dict) and "grad" in context:
                context, arrays = dict(context), list(arrays)
                if context["grad"] == recorded_body.get("context", {}).get("grad"):
                    context["grad"] = live_body.get("context", {}).get("grad", context["grad"])
                if live_state is not None and _equal(arrays[context["torch"]], start):
                    arrays[context["torch"]] = live_state
                body = {**body, "context": context}
            yield direction, (body, arrays)


def _torch_state(message: Message) -> np.ndarray | None:
    body, arrays = message
    context = body.get("context")
    return arrays[context["torch"]] if isinstance(context, dict) and "torch" in context else None


def _without_context(body: dict, arrays: list[np.ndarray]) -> list[np.ndarray]:
    context = body.get("context")
    skip = context.get("torch") if isinstance(context, dict) else None
    return [a for i, a in enumerate(arrays) if i != skip]


def _equal(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return a is not None and b is not None and a.shape == b.shape and np.array_equal(a, b)


def _close(recorded: np.ndarray, live: np.ndarray, rtol: float) -> bool:
    live = np.asarray(live)
    if recorded.dtype != live.dtype or recorded.shape != live.shape:
        return False
    if recorded.dtype.kind not in "fc":
        return bool(np.array_equal(recorded, live))
    finite = np.isfinite(recorded)
    if not np.array_equal(finite, np.isfinite(live)) or not np.array_equal(recorded[~finite], live[~finite],
                                                                            equal_nan=True):
        return False
    scale = max(1.0, float(np.max(np.abs(recorded[finite]), initial=0.0)))
    return bool(np.max(np.abs(recorded[finite] - live[finite]), initial=0.0) <= rtol * scale)


def _describe(body: dict) -> str:
    op, name = body.get("op"), body.get("name")
    return {"call": "a call", "getattr": f"the attribute {name}", "setattr": f"setting {name}",
            "apply": f"{str(name).rsplit('.', 1)[-1]}"}.get(str(op), f"a {op} request")


# ---------------------------------------------------------------------- a pack, as check() reads it

@dataclass
class FunctionPack:
    """What check() needs to judge one function, without the reference."""

    probes: list[Probe]
    expected: list[Any]
    shared: list[set[frozenset[str]]]
    flow: Flow | None
    predictions: list[dict[int, Any]]  # per probe: mistake index -> what that mistake returns there
    mistakes: int  # how many mistakes the spec had when the pack was built
    found: list[list[tuple[str, dict[str, Any]]]]  # per probe: (message, outputs) of each variant that ran
    raised: list[set[str]]  # per probe: messages of variants that raised there
    helpers: dict[str, int]  # each helper's handle in the recorded conversations
    conversations: list[list[Exchange] | None]  # per probe, with the helpers (empty without ``uses``; None: not kept)
    asks: dict[str, int]  # each reference name's handle in the conversations of ``asked``
    asked: list[list[Exchange]]  # per probe, what the checks asked of the reference (usually empty)
    rtol: float = 1e-6

    def variants(self, i: int, only: str | None = None) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """As grade's variant search: (message, outputs) of the variants that ran on probe ``i``, or with ``only``,
        of those with that message, and None for each of them that raised there."""
        for message, outputs in self.found[i]:
            if only is None or message == only:
                yield message, outputs
        if only is not None and only in self.raised[i]:
            yield only, None

    def replay(self, conversation: list[Exchange]) -> Replay:
        return Replay(conversation, self.rtol)


class Pack:
    """An assignment's check pack, read from its folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._reader = Reader(folder)
        doc = self._reader.document
        if doc.get("format") != FORMAT:
            raise ValueError(f"{folder} is a check pack of format {doc.get('format')}; this course reads format "
                             f"{FORMAT}: regenerate it (python -m autograder.packbuild)")
        self.assignment: str = doc["assignment"]
        self.fingerprint: str = doc["fingerprint"]
        self.constants: dict[str, Any] = {k: self._reader.value(v) for k, v in doc["constants"].items()}

    def function(self, assignment: Assignment, spec: GradedFunction) -> FunctionPack:
        """The pack of one function, every value a fresh copy (judging must not change the next check)."""
        stored = self._reader.document["functions"].get(spec.name)
        if stored is None:
            raise KeyError(f"the check pack of {self.assignment} has nothing for {spec.name}: regenerate it")
        value = self._reader.value
        probes = self._probes(assignment, spec, stored)
        texts, paths = stored["variants"]["messages"], stored["variants"]["paths"]
        return FunctionPack(
            probes=probes,
            expected=[value(v) for v in stored["expected"]],
            shared=[{frozenset(pair) for pair in pairs} for pairs in stored["shared"]],
            flow=_flow(stored["flow"]),
            predictions=[{k: value(v) for k, v in made} for made in stored["predictions"]],
            mistakes=stored["mistakes"],
            found=[_found(p, texts, paths, value) for p in stored["variants"]["probes"]],
            raised=[{texts[m] for m in p["raised"]} for p in stored["variants"]["probes"]],
            helpers=stored["helpers"],
            conversations=[None if c is None else self._conversation(c) for c in stored["conversations"]],
            asks=stored["asks"],
            asked=[self._conversation(c) for c in stored["asked"]],
            rtol=stored["rtol"],
        )

    def _conversation(self, recorded: list) -> list[Exchange]:
        message = self._reader.message
        return [Exchange(message(e["request"]), [(d, message(m)) for d, m in e["steps"]]) for e in recorded]

    def _probes(self, assignment: Assignment, spec: GradedFunction, stored: dict) -> list[Probe]:
        """The stored probes; or the probes drawn again here with the assignment's own (public) code, its calls of
        the reference answered from the pack, once they are known to be those the pack was built on."""
        kept = stored["probes"]
        if all("kwargs" in p for p in kept):
            return [Probe(p["name"], self._reader.value(p["kwargs"]), p["note"], p["compare"]) for p in kept]
        link = Replay(self._conversation(stored["drawn"]), stored["rtol"])
        reference = {**self.constants, **{name: remote.Proxy(link, h) for name, h in stored["drawing"].items()}}
        index = [f.name for f in assignment.functions].index(spec.name)
        try:
            probes = spec.probes(check_rng(assignment.seed, index), reference)
        except PackMiss:
            probes = []
        if [(p.name, p.note, p.compare) for p in probes] != [(p["name"], p["note"], p["compare"]) for p in kept] \
                or link.missed or not all(same_summary(k["summary"], summary(p.kwargs)) for k, p in zip(kept, probes)):
            raise RuntimeError(f"the probes of {spec.name} drawn here are not those its check pack was built on: "
                               "regenerate the pack (python -m autograder.packbuild)")
        for i, probe in enumerate(probes):
            for local, a in wire.pack(probe.kwargs)[1].items():
                if not self._reader.provide(external_name(spec.name, i, local), a):
                    raise RuntimeError(f"the probes of {spec.name} drawn here do not fit its check pack: regenerate it")
        return probes


def external_name(function: str, probe: int, key: str) -> str:
    """How a pack names an array of a probe that the reader draws again."""
    return f"{function}/{probe}/{key}"


def _found(stored: dict, texts: list[str], paths: list[str], value: Callable[[int], Any]) -> list:
    """(message, outputs) of each variant that ran on a probe; stored as what differs from the expected outputs."""
    base = {paths[p]: v for p, v in stored["base"]}
    runs = []
    for m, differ, missing in stored["found"]:
        outputs = {p: v for p, v in base.items() if p not in {paths[q] for q in missing}}
        outputs.update({paths[p]: v for p, v in differ})
        runs.append((texts[m], {p: value(v) for p, v in outputs.items()}))
    return runs


def flow_data(flow: Flow | None, labels: dict[str, str]) -> dict | None:
    """``flow`` as data, cut down to what the verdicts ask of it (the variables that hold outputs, and those
    they are computed from), every variable that no message names renamed."""
    if flow is None:
        return None
    owners = set(flow.outputs.values())
    relevant = owners | {v for o in owners for v in flow.depends.get(o, ())}
    names: dict[str, str] = {}
    for v in flow.order:
        if v in relevant:
            names[v] = v if v in labels else f"v{len(names) + 1}"

    def renamed(vs: Any) -> list[str]:
        return sorted(names[v] for v in vs if v in names)

    return {"order": [names[v] for v in flow.order if v in names],
            "parameters": renamed(flow.parameters),
            "depends": {names[o]: renamed(flow.depends.get(o, ())) for o in names if o in owners},
            "direct": {names[o]: renamed(flow.direct.get(o, ())) for o in names if o in owners},
            "outputs": {path: names.get(v, v) for path, v in flow.outputs.items()},
            "accumulated": renamed(flow.accumulated)}


def _flow(data: dict | None) -> Flow | None:
    if data is None:
        return None
    return Flow(tuple(data["order"]), frozenset(data["parameters"]),
                {v: frozenset(d) for v, d in data["depends"].items()},
                {v: frozenset(d) for v, d in data["direct"].items()}, dict(data["outputs"]),
                frozenset(data["accumulated"]))


def find(assignment_id: str, where: str | Path | None = None) -> Pack | None:
    """The check pack for ``assignment_id``: in ``where`` (the pack's folder, or the folder holding it), else
    beside the notebook (a kernel runs in the notebook's folder); None if there is none."""
    candidates = [Path(where), Path(where) / FOLDER] if where is not None else [Path.cwd() / FOLDER]
    for folder in candidates:
        if (folder / JSON_NAME).is_file():
            pack = _read(folder.resolve(), (folder / JSON_NAME).stat().st_mtime_ns)
            if pack.assignment != assignment_id:
                raise ValueError(f"the check pack in {folder} is for {pack.assignment}, not {assignment_id}")
            return pack
    if where is not None:
        raise FileNotFoundError(f"no check pack in {where}")
    return None


@functools.lru_cache(maxsize=4)
def _read(folder: Path, mtime: int) -> Pack:
    """Read once per process (and again when the pack changes)."""
    return Pack(folder)


@contextlib.contextmanager
def standing_in(assignment_id: str, namespace: Namespace | None) -> Iterator[None]:
    """While checking from a pack, what the assignment's own code gets when it asks for the reference
    (:func:`autograder.runtime.load_reference`); ``None``: the reference itself."""
    if namespace is None:
        yield
        return
    before = runtime.STAND_INS.get(assignment_id)
    runtime.STAND_INS[assignment_id] = namespace
    try:
        yield
    finally:
        if before is None:
            runtime.STAND_INS.pop(assignment_id, None)
        else:
            runtime.STAND_INS[assignment_id] = before
