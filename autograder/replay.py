"""Answering a function's calls of the reference helpers from a recorded conversation, without their code.

A conversation is what went over a link of :mod:`autograder.remote` (the grader's helper process) while the
reference function called the reference helpers on a probe: each request, each call back, each answer. A
learner's function that makes the same requests gets the same answers from :class:`Replay`; a request the
conversation does not hold is a *miss* (:class:`PackMiss`).
"""

from __future__ import annotations

import collections
import json
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from autograder import remote

Message = tuple[dict, list[np.ndarray]]  # a message of autograder.remote: its JSON part and its arrays


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
