"""Check packs: what ``check()`` needs to judge a learner's function when the solutions are not there.

A released assignment ships ``assignments/<id>/check_pack/`` beside the student notebook. It is written by
``python -m autograder.packbuild <id>`` (:mod:`autograder.packbuild`) from the solution notebook, and holds
data only (:mod:`autograder.packvalues`): ``pack.json.gz`` (structure, messages and small values, as gzipped
JSON) and ``arrays.npz`` (each distinct array once, read with ``allow_pickle=False``). For every graded function:

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
  requests gets the same answers (:mod:`autograder.replay`), so a correct function passes even when the learner's own
  helpers are wrong; a request the pack does not hold is a *miss*, and check() runs that probe again with the
  learner's own helpers, and says so;
- the same for what the checks themselves ask of the reference (Jazz's teacher forcing asks its model), and
  the values of the public constants (``N_VALUES``) they read.

No code of the reference is in a pack: no source, no bytecode, no pickle.
"""

from __future__ import annotations

import contextlib
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from autograder import remote, runtime, wire
from autograder.dataflow import Flow
from autograder.packvalues import JSON_NAME, Reader
from autograder.replay import Exchange, PackMiss, Replay
from autograder.spec import Assignment, GradedFunction, Namespace, Probe

FORMAT = 1
CHECK_STREAM = 1  # the grader draws a function's probes from [seed, index]; a check, from [seed, index, 1]
FOLDER = "check_pack"


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


# Where an installed wheel keeps the check packs (pyproject maps the package autograder.packs to assignments/).
INSTALLED = Path(__file__).resolve().parent / "packs"


def installed(assignment_id: str) -> Pack | None:
    """The check pack that came with the installed course, for a notebook opened alone (on Colab); None if the
    course was not installed from a wheel, or has no pack for ``assignment_id``."""
    folder = INSTALLED / assignment_id / FOLDER
    return find(assignment_id, folder) if (folder / JSON_NAME).is_file() else None


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
