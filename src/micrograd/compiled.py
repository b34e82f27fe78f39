"""`micrograd.compile(fn)`: inside `fn`, each call of a `micrograd.nn` model runs as a program.

A training loop spends its time in the model: the demo's loss builds 65,818 nodes a step, all
but about 1,500 of them inside `model(x)`. `loss = micrograd.compile(loss)` is the one line a
learner adds; nothing else in their loop changes, and it prints the same numbers.

- **Recording.** The first call of a model (an `MLP`, a `Layer` or a `Neuron`, not a subclass:
  its own code may read anything) inside a compiled function runs as usual. Its graph, from the
  call's inputs and the model's parameters to its outputs, becomes a program: the nodes in the
  order `Value.topo` lists them, each an op and the positions of its operands in a list of
  floats (one per use of an input or a leaf, then one per node). A call given one Value twice,
  or a parameter as an input, runs as written and is not recorded.
- **Replaying.** Later calls of that model run the program on the floats: the same ops on the
  same numbers in the same order as the graph would, without making the graph. The call returns
  one node per output: its `data` is the output's value, the first output's parents are the call's
  inputs and parameters, and its chain rule is the program's (the other outputs' parent is the
  first, so `backward()` reaches it after every output has its gradient, and runs the program's
  backward once).
- **Everything else runs as written.** The loss, the accuracy the demo reads from each score's
  `.data`, a different batch size (more or fewer calls of the same program), a Python branch:
  only the model's calls are replayed, so nothing in the user's own lines can go stale.
- **The guard.** What an nn model's graph depends on besides its inputs is its structure: each
  neuron's `nonlin`, activation and `fused`, and which `Value` each parameter is. It is compared
  with the program's at every call (a tuple comparison, cheap next to the replay); a change
  records the model again.

The numbers are the graph's. The forward pass is the same float ops. The backward pass adds each
node's contributions in `backward()`'s order, and each use of an input or a parameter has its
own float, whose gradient is added into `.grad` in the order `backward()` reaches the uses; so
a model with one output gives the same bits, also for inputs read by several neurons, tied
weights or an input that is read outside the call too. With several outputs, each call's
program runs backward once after all of them have their gradients, which can add a hidden
node's contributions in another order (within 1e-12 relative, tested).

What a compiled call's nodes are not: their inner nodes do not exist (a picture of the loss shows
each call as one node, labelled with the model's class), so `create_graph`, `grad()` and the
walk stop at them with a message saying so, and a graph holding one cannot be copied or
pickled. Call the model outside the compiled function for these. A `backward()` interrupted
(an exception, Ctrl-C) between a multi-output call's outputs can leave that call's gradients
half-collected: run the compiled function again before the next `backward()`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import update_wrapper
from types import MethodType
from typing import Any
from weakref import WeakKeyDictionary

from micrograd.engine import ADD, MUL, RELU, Value
from micrograd.links import MANY
from micrograd.ops import FLOAT_MATH, Op

_ADD, _MUL, _RELU, _UNARY, _BINARY, _WIDE = range(6)  # a program line's kinds
_KIND = {ADD: _ADD, MUL: _MUL, RELU: _RELU}


class _Running(threading.local):
    """The compiled function running in this thread, if any (a model call reads it)."""

    scope: Scope | None = None


RUNNING = _Running()


def compile(fn: Callable[..., Any]) -> Compiled:
    """`fn` with its `micrograd.nn` models' calls replayed from recorded programs."""
    if not callable(fn):
        raise TypeError(f"micrograd.compile needs a function, got {type(fn).__name__}")
    return Compiled(fn)


class Compiled:
    """A function whose calls replay its models from programs (one per model, kept here)."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn
        # model -> its program, or None for a model found not to be one (it runs as written);
        # weak: a program keeps no model alive
        self.programs: WeakKeyDictionary[Any, Program | None] = WeakKeyDictionary()
        self.recorded = 0  # programs recorded so far: 1 per model, more after a guard failed
        update_wrapper(self, fn, updated=())  # its name and docstring; a model keeps its own

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        outer = RUNNING.scope
        RUNNING.scope = Scope(self)
        try:
            return self.fn(*args, **kwargs)
        finally:
            RUNNING.scope = outer

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        """As a method's decorator: bound to the instance, as the function would be."""
        return self if obj is None else MethodType(self, obj)


class Scope:
    """One call of a compiled function (the models it records run inside it as written)."""

    __slots__ = ("compiled", "recording")

    def __init__(self, compiled: Compiled):
        self.compiled, self.recording = compiled, False

    def call(self, model: Any, inputs: list[Value],
             outputs: Callable[[list[Value]], list[Value]]) -> list[Value]:
        """`model`'s outputs for `inputs`: replayed, or computed by `outputs` (and recorded)."""
        if self.recording:  # a model called while another is being recorded: part of its graph
            return outputs(inputs)
        structure = model._structure()  # the guard, at every call: cheap next to a replay
        if structure is None:  # a subclass of an nn model: its own code may read anything
            return outputs(inputs)
        programs = self.compiled.programs
        program = programs.get(model)
        if program is not None and program.structure == structure:
            return program.run(inputs)
        if len(set(inputs)) < len(inputs) or not set(inputs).isdisjoint(model.parameters()):
            return outputs(inputs)  # an input twice, or a parameter as an input: not recorded
        self.recording = True
        try:
            outs = outputs(inputs)
        finally:
            self.recording = False
        programs[model] = Program.record(structure, model, inputs, outs)
        self.compiled.recorded += 1
        return outs


class Program:
    """A model's call as lines on a list of floats, and where their gradients go.

    The floats are one per use of an input or a leaf (a parameter, a constant), then one per
    node. A use has its own float, so its gradient is the one contribution it gets, and adding
    those into `.grad` in the order `backward()` visits the uses gives its sums, bit for bit,
    even for an input that several neurons read or a weight used twice.
    """

    def __init__(self, structure: tuple, label: str, uses: list[tuple[int, Any]],
                 raw: list[tuple[Op, int, list[int]]], outs: list[int]):
        self.structure, self.label = structure, label
        # the inputs' floats first, then the leaves'; a use u is numbered ~u in `raw`
        inputs = [u for u, (_, leaf) in enumerate(uses) if leaf is None]
        leaves = [u for u, (_, leaf) in enumerate(uses) if leaf is not None]
        slot_of = [0] * len(uses)
        for rank, u in enumerate(inputs + leaves):
            slot_of[u] = rank
        self.input_uses = [uses[u][0] for u in inputs]  # the input each float reads
        self.leaf_uses = [uses[u][1] for u in leaves]
        self.leaves = list(dict.fromkeys(self.leaf_uses))  # each once, for the node's parents
        base = len(uses)

        def slot(k: int) -> int:
            return slot_of[~k] if k < 0 else base + k

        self.lines = [_line(op, slot(out), [slot(k) for k in args]) for op, out, args in raw]
        self.outs = [base + out for out in outs]
        # into .grad, the uses in the order backward() reaches them: last line first, then each
        # line's operands in order (the order matters per Value only, so inputs and leaves apart)
        reached = [~k for _, _, args in reversed(raw) for k in args if k < 0]
        self.input_adds = [(slot_of[u], uses[u][0]) for u in reached if uses[u][1] is None]
        self.leaf_adds = [(slot_of[u], uses[u][1]) for u in reached if uses[u][1] is not None]
        self.blank = [0.0] * len(raw)

    @classmethod
    def record(cls, structure: tuple, model: Any, inputs: list[Value],
               outs: list[Value]) -> Program | None:
        """The program of the graph `outs` were made by; None if it is not one (a node made by
        user code in it, or an output that is an input or a leaf)."""
        nodes, _ = _below(outs, inputs)
        position = {node: k for k, node in enumerate(nodes)}
        if any(out not in position for out in outs):
            return None
        where = {x: i for i, x in enumerate(inputs)}
        uses: list[tuple[int, Any]] = []  # (input position, None) or (-1, the leaf)
        raw = []
        for node in nodes:
            op = node._op
            if not isinstance(op, Op) or node._local is None:
                return None
            args = []
            for parent in node._prev:
                k = position.get(parent)
                if k is None:  # a use of an input or a leaf: its own float, numbered below 0
                    args.append(~len(uses))
                    i = where.get(parent)
                    uses.append((i, None) if i is not None else (-1, parent))
                else:
                    args.append(k)
            raw.append((op, position[node], args))
        return cls(structure, type(model).__name__, uses, raw, [position[out] for out in outs])

    def run(self, inputs: list[Value]) -> list[Value]:
        """The outputs for `inputs`, computed by the program: one node each."""
        v = [inputs[i].data for i in self.input_uses]
        v += [p.data for p in self.leaf_uses]
        v += self.blank
        _forward(self.lines, v)
        call = _Call(self, inputs, v)
        first = _output(v[self.outs[0]], (*inputs, *self.leaves), MANY, self.label, call, 0)
        return [first, *(_output(v[o], first, None, self.label, call, k)
                         for k, o in enumerate(self.outs[1:], 1))]


def _below(outs: Sequence[Value], inputs: Sequence[Value]) -> tuple[list[Value], list[Value]]:
    """The nodes between `inputs` and `outs` (parents first, as `Value.topo` lists them from each
    output in turn), and the leaves they read that are not inputs (parameters, constants)."""
    stop = set(inputs)
    nodes: list[Value] = []
    leaves: list[Value] = []
    state: dict[Value, int] = {}
    for out in outs:
        stack = [out]
        while stack:
            node = stack.pop()
            seen = state.get(node)
            if seen is None:
                parents = () if node in stop else node._prev
                state[node] = 1 if parents else 2
                if not parents:
                    if node not in stop:
                        leaves.append(node)
                    continue
                stack.append(node)
                stack.extend(p for p in reversed(parents) if p not in state)
            elif seen == 1:
                state[node] = 2
                nodes.append(node)
    return nodes, leaves


def _line(op: Op, out: int, args: list[int]) -> tuple:
    kind = _KIND.get(op)
    if kind is not None and len(args) == (1 if kind == _RELU else 2):
        return (kind, out, args[0], args[-1])
    if len(args) == 1:
        return (_UNARY, out, op, args[0])
    if len(args) == 2:
        return (_BINARY, out, op, (args[0], args[1]))
    return (_WIDE, out, op, tuple(args))


def _forward(lines: list[tuple], v: list[float]) -> None:
    """Each line's value from its operands' (the ops' float rules, as the graph computes them)."""
    m = FLOAT_MATH
    for kind, o, a, b in lines:
        if kind == _MUL:
            v[o] = v[a] * v[b]
        elif kind == _ADD:
            v[o] = v[a] + v[b]
        elif kind == _RELU:
            x = v[a]
            v[o] = 0.0 if x < 0 else x  # ops.relu
        elif kind == _UNARY:
            v[o] = a.forward(m, v[b])
        elif kind == _BINARY:
            v[o] = a.forward(m, v[b[0]], v[b[1]])
        else:
            v[o] = a.forward(m, *[v[i] for i in b])


def _backward(lines: list[tuple], v: list[float], g: list[float]) -> None:
    """The chain rule over the lines in reverse, each parent's `+=` in `backward()`'s order."""
    m = FLOAT_MATH
    for kind, o, a, b in reversed(lines):
        d = g[o]
        if kind == _MUL:
            g[a] += v[b] * d
            g[b] += v[a] * d
        elif kind == _ADD:
            g[a] += 1.0 * d
            g[b] += 1.0 * d
        elif kind == _RELU:
            g[a] += (1.0 if v[o] > 0 else 0.0) * d
        elif kind == _UNARY:
            (local,) = a.local(m, v[o], v[b])
            g[b] += local * d
        else:
            for i, local in zip(b, a.local(m, v[o], *[v[i] for i in b])):
                g[i] += local * d


class _Call:
    """One replayed call: its program, inputs and values, and the gradients its outputs got."""

    __slots__ = ("program", "inputs", "values", "seeds")

    def __init__(self, program: Program, inputs: list[Value], values: list[float]):
        self.program, self.inputs, self.values = program, inputs, values
        self.seeds: dict[int, float] = {}

    def backward(self, k: int, grad: float) -> None:
        """Output k's `_backward`: the first output runs the program with every output's grad."""
        if k:
            self.seeds[k] = grad
            return
        program, v = self.program, self.values
        g = [0.0] * len(v)
        g[program.outs[0]] = grad
        for j, seed in self.seeds.items():
            g[program.outs[j]] = seed
        self.seeds.clear()
        _backward(program.lines, v, g)
        inputs = self.inputs
        for i, x in program.input_adds:
            inputs[x].grad += g[i]
        for i, p in program.leaf_adds:
            p.grad += g[i]


class Output(Value):
    """A node a compiled call returns (see the module's docstring): its chain rule is the call's."""

    __slots__ = ("_call", "_k")
    refuse_copy = ("a compiled model call's node has no graph inside to copy or pickle; call the "
                   "model outside micrograd.compile for that")  # `persist` asks every node

    @property  # type: ignore[override]
    def _backward(self) -> Callable[[], None]:
        return lambda: self._call.backward(self._k, self.grad)

    def __reduce_ex__(self, protocol: Any) -> tuple:
        raise TypeError(self.refuse_copy)

    def __copy__(self) -> Value:
        raise TypeError(self.refuse_copy)

    def __deepcopy__(self, memo: dict) -> Value:
        raise TypeError(self.refuse_copy)


_new = object.__new__


def _output(data: float, a: Any, b: Any, label: str, call: _Call, k: int) -> Output:
    node = _new(Output)
    node.data, node.grad = data, 0.0
    node._a, node._b, node._da, node._op = a, b, None, label
    node._call, node._k = call, k
    return node
