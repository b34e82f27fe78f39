"""Record a computation graph once, then replay it: no new nodes, no graph walk per step.

Eager autograd rebuilds the whole graph on every step although its shape never changes. A tape
walks the recorded graph once and turns it into straight-line Python source, one line per node
forward and one per edge backward, compiled with `compile()`. Print `tape.source` to see exactly
what backpropagation computes. Every line does the float operations of the engine's op in the
engine's order, so a replay gives the same bits as eager autograd.

- `Tape(root)` replays any recorded graph: `forward()` recomputes every node from the leaves'
  current `.data` (data-dependent nodes such as the max in cross-entropy included), `backward()`
  adds d root / d leaf into each leaf's `.grad` as `Value.backward()` would.
- `BatchTape(model, nin)` records the loss of one sample, with the inputs and the label as leaves,
  and replays it over a batch: the trainer's `tape` engine (any batch size, any number of points,
  memory independent of both). With `backend="numpy"` every line runs on arrays, one element per
  sample: the trainer's `numpy` engine. Its graph is first compiled into array code (one matrix
  product per layer, see `micrograd.arraycode`); graphs without layers keep the per-node lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from micrograd.backends import BeforeUpdate, apply_update
from micrograd.backends.eager import count_correct
from micrograd.engine import Value
from micrograd.losses import cross_entropy
from micrograd.ops import FLOAT_MATH, Op, Sym, namespace_for, numpy_math, text_of, text_rule


def _rule_of(node: Value) -> Op:
    op = node._op
    if not isinstance(op, Op) or node._local is None:
        raise ValueError(f"tape: cannot replay op {op!r}: the node was built outside the "
                         "engine's ops (with its own _backward closure); define it as an Op "
                         "(micrograd.Op) to record it")
    return op


def _forward_expr(node: Value, a: list[str]) -> str:
    """The expression that computes a node from its parents' names `a`: its forward rule."""
    return text_rule(_rule_of(node).forward, *map(Sym, a))


def _local_exprs(node: Value, a: list[str], out: str) -> list[str]:
    """d node / d parent_i for each parent, as expressions: its local rule (the `_local` values)."""
    return list(text_rule(_rule_of(node).local, Sym(out), *map(Sym, a), operand=True))


def _record(root: Value) -> tuple[list[Value], dict[Value, int]]:
    nodes = root.topo()
    return nodes, {node: i for i, node in enumerate(nodes)}


class Tape:
    """A recorded graph that replays forward and backward on the same `Value` leaves."""

    def __init__(self, root: Value):
        self.root = root
        self.nodes, index = _record(root)
        self.leaves = [n for n in self.nodes if not n._prev]
        self._leaf_index = [index[leaf] for leaf in self.leaves]
        fwd, bwd = [], []
        for i, node in enumerate(self.nodes):
            if node._prev:
                a = [f"d[{index[p]}]" for p in node._prev]
                fwd.append(f"    d[{i}] = {_forward_expr(node, a)}")
        for i in range(len(self.nodes) - 1, -1, -1):
            node = self.nodes[i]
            a = [f"d[{index[p]}]" for p in node._prev]
            for p, local in zip(node._prev, _local_exprs(node, a, f"d[{i}]") if a else ()):
                # chain rule: d root/d parent += d node/d parent · d root/d node
                bwd.append(f"    g[{index[p]}] += {local} * g[{i}]")
        root_i = len(self.nodes) - 1
        self.source = "\n".join(
            ["def forward(d):", *fwd, f"    return d[{root_i}]", "",
             "def backward(d, g):", *(bwd or ["    pass"]), ""]
        )
        namespace = namespace_for(FLOAT_MATH)
        exec(compile(self.source, "<micrograd tape>", "exec"), namespace)
        self._forward, self._backward = namespace["forward"], namespace["backward"]
        self._d = [node.data for node in self.nodes]
        self._g = [0.0] * len(self.nodes)
        self._zeros = [0.0] * len(self.nodes)

    def forward(self) -> float:
        """Recompute every node from the leaves' current data; return (and set) root.data."""
        d = self._d
        for i, leaf in zip(self._leaf_index, self.leaves):
            d[i] = leaf.data
        self.root.data = self._forward(d)
        return self.root.data

    def backward(self) -> None:
        """Add d root / d leaf to every leaf's `.grad`, as `root.backward()` would."""
        g = self._g
        g[:] = self._zeros
        for i, leaf in zip(self._leaf_index, self.leaves):
            g[i] = leaf.grad
        g[-1] += 1.0  # the root: 1.0 after the reset, or accumulated if the root is a leaf
        self._backward(self._d, g)
        for i, leaf in zip(self._leaf_index, self.leaves):
            leaf.grad = g[i]

    def sync(self) -> None:
        """Copy the replayed data and grads into every recorded node (for pictures)."""
        for node, data, grad in zip(self.nodes, self._d, self._g):
            node.data, node.grad = data, grad


class BatchTape:
    """The mean cross-entropy of `model` over a batch, from one recorded per-sample graph
    (or the mean of another per-sample `loss(outputs, target)`, e.g. a squared error).

    The graph of one sample (inputs and label as leaves) is recorded once. `loss(X, Y)` replays
    its forward pass for every row; `loss_and_backward(X, Y)` also adds the gradient of the mean
    loss to every parameter's `.grad`. With the python backend both give the same bits as eager
    `mean_loss(model, split)` and its `backward()`: losses summed left to right, samples
    backpropagated last to first, as the eager graph's reversed topological order does.
    """

    def __init__(self, model: Any, nin: int, backend: str = "python",
                 loss: Callable[[list[Value], Value], Value] = cross_entropy):
        if backend not in ("python", "numpy"):
            raise ValueError(f"unknown tape backend {backend!r}; use 'python' or 'numpy'")
        self.backend = backend
        self.model, self.params = model, model.parameters()
        inputs = [Value(0.0) for _ in range(nin)]
        label = Value(0.0)
        out = model(inputs)
        outputs = [out] if isinstance(out, Value) else out
        root = loss(outputs, label)
        self.compiled = False
        if backend == "numpy":
            from micrograd.arraycode import compile_numpy, namespace_extras
            from micrograd.arrays import reuse_freed_memory

            reuse_freed_memory()  # fresh pages for every array of every step cost more than math

            # the compiler reads the interior nodes only (a wide MLP's graph is mostly weights)
            interior = root.topo(leaves=False)
            compiled = compile_numpy(interior, self.params, inputs, label, outputs)
            if compiled is not None:
                self.nodes, self.compiled = interior, True
                self.source, consts = compiled
                namespace = {**_numpy_namespace(), **namespace_extras(consts)}
                exec(compile(self.source, "<micrograd batch tape: numpy, compiled>", "exec"),
                     namespace)
                self._compiled_functions(namespace["loss"], namespace["loss_and_grads"],
                                         namespace["evaluate"])
                return
        nodes = root.topo()
        index = {node: i for i, node in enumerate(nodes)}
        leaf_names = {p: f"p{j}" for j, p in enumerate(self.params)}
        leaf_names.update({x: f"x{k}" for k, x in enumerate(inputs)})
        names: list[str] = []
        for i, node in enumerate(nodes):
            if node in leaf_names:
                names.append(leaf_names[node])
            elif node is label:
                names.append("y")
            elif not node._prev:
                names.append(text_of(node.data))  # a constant: inline its value
            else:
                names.append(f"v{i}")
        self.nodes, self.names = nodes, names
        self._evaluate = None
        self.source = self._generate(nodes, index, names, nin)
        namespace = namespace_for(FLOAT_MATH) if backend == "python" else _numpy_namespace()
        exec(compile(self.source, f"<micrograd batch tape: {backend}>", "exec"), namespace)
        self._loss, self._step = namespace["loss"], namespace["loss_and_backward"]

    def _compiled_functions(self, loss: Any, loss_and_grads: Any, evaluate: Any) -> None:
        """The compiled code reads the parameters as one vector and returns their gradient as
        one: `loss`/`loss_and_backward` read `.data` and add into `.grad` around it, and
        `train_step` hands the gradient straight to AdamW's array update."""
        from micrograd.arrays import add_grads, read_data

        self._grads = loss_and_grads
        self._fused_with: tuple = ()
        self._pending: tuple | None = None  # (optimizer, parameter vector not yet in `.data`)

        def step(X: Any, Y: Any, P: Sequence[Value]) -> float:
            self.sync()
            value, g = loss_and_grads(X, Y, read_data(P))
            add_grads(P, g)
            return value

        def current(P: Sequence[Value]) -> Any:  # the parameter vector, deferred or as in `.data`
            return self._pending[1] if self._pending else read_data(P)

        self._loss = lambda X, Y, P: loss(X, Y, current(P))
        self._evaluate = lambda X, Y: evaluate(X, Y, current(self.params))
        self._step = step

    def train_step(self, X: Any, Y: Any, optimizer: Any, defer: bool = False,
                   before_update: BeforeUpdate | None = None) -> float:
        """`loss_and_backward(X, Y)`, `optimizer.step()`, `optimizer.zero_grad()`: the same floats.

        For the compiled numpy tape and an `AdamW` of the model's parameters, the gradient
        vector goes from the compiled code to AdamW's array update without passing through every
        parameter's `.grad` (for 2-256-256-3, 67,331 attribute writes and reads a step).
        `defer=True` promises that nothing reads or sets a parameter's `.data` or `.grad` until
        the next `train_step` or `sync()` (`loss()` may be called): the parameters then stay one
        array between steps, and `sync()` writes them into the `Value`s. A `before_update`
        (`backends.Engine.train_step`) reads and changes `.grad`, so it takes the three calls.
        """
        if before_update is not None or not self._fuses(optimizer):
            loss = self.loss_and_backward(X, Y)
            apply_update(optimizer, loss, before_update)
            return loss
        from micrograd.arrays import fused_adamw_step

        pending = self._pending if self._pending and self._pending[0] is optimizer else None
        if pending is None:
            self.sync()
        loss, p = fused_adamw_step(self._grads, *self._batch(X, Y), optimizer,
                                   None if pending is None else pending[1], write=not defer)
        self._pending = (optimizer, p) if defer else None
        return loss

    def sync(self) -> None:
        """Write the parameters that deferred `train_step`s kept as an array into `.data`."""
        pending = getattr(self, "_pending", None)
        if pending is not None:
            self._pending = None
            for q, x in zip(pending[0].params, pending[1].tolist()):
                q.data = x

    def _fuses(self, optimizer: Any) -> bool:
        from micrograd.optim import AdamW

        if not self.compiled or type(optimizer) is not AdamW or not optimizer.runs_as_written():
            return False
        key = (optimizer, optimizer.params, len(optimizer.params))
        if self._fused_with != key:  # the same Values in the same order, each once: checked once
            # Values compare and hash by identity: list equality is `is`, element by element
            same = list(optimizer.params) == self.params
            if not same or len(set(self.params)) != len(self.params):
                return False
            self._fused_with = key
        return True

    def _generate(self, nodes: list[Value], index: dict[Value, int], names: list[str],
                  nin: int) -> str:
        numpy = self.backend == "numpy"
        fwd = [f"{names[i]} = {_forward_expr(n, [names[index[p]] for p in n._prev])}"
               for i, n in enumerate(nodes) if n._prev]
        bwd = _backward_lines(nodes, index, names, numpy)
        write = _numpy_source if numpy else _python_source
        return write(len(self.params), fwd, bwd, names[-1], nin)

    def loss(self, X: Sequence[Sequence[float]], Y: Sequence[int]) -> float:
        """Mean cross-entropy over the rows of X with labels Y (forward only)."""
        return self._loss(*self._batch(X, Y), self.params)

    def loss_and_backward(self, X: Sequence[Sequence[float]], Y: Sequence[int]) -> float:
        """Mean cross-entropy, and its gradient added into every parameter's `.grad`."""
        return self._step(*self._batch(X, Y), self.params)

    def evaluate(self, X: Any, Y: Any) -> Any:
        """Mean loss (`loss`'s floats) and accuracy. The compiled numpy tape takes both from one
        pass of its array code on its own parameter vector; the others score every point with
        `model.predict` (the float engine: no NumPy needed)."""
        from micrograd.backends import Evaluation

        X, Y = self._batch(X, Y)
        if self._evaluate is None:
            self.sync()
            rows = X.tolist() if self.backend == "numpy" else X  # floats, as predict reads
            correct = count_correct(self.model, rows, [int(y) for y in Y])
            return Evaluation(self.loss(X, Y), correct / len(Y))
        from micrograd.arrays import correct_from_logits

        loss, logits = self._evaluate(X, Y)

        def rescore(i: int) -> list[float]:
            self.sync()
            return self.model.predict(X[i].tolist())

        return Evaluation(loss, correct_from_logits(logits, Y, rescore) / len(Y))

    def take(self, X: Any, Y: Any, idx: Sequence[int]) -> tuple[Any, Any]:
        """The rows `idx` of a batch made by `batch`, in that order (a mini-batch)."""
        if self.backend == "numpy":
            return X[idx], Y[idx]
        return [X[i] for i in idx], [Y[i] for i in idx]

    def reload(self) -> None:
        """Nothing to read: every step starts from the Values, or from the vector a deferred
        step left (which nobody may change before `sync()`)."""

    def batch(self, X: Any, Y: Any) -> tuple[Any, Any]:
        """X and Y as this tape reads them (NumPy arrays for the numpy backend): convert a batch
        used at every step once, as `train` does; `loss(*tape.batch(X, Y))` is `loss(X, Y)`."""
        return self._batch(X, Y)

    def _batch(self, X: Any, Y: Any) -> tuple[Any, Any]:
        if self.backend == "numpy":
            import numpy as np

            return np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        return X, [float(y) for y in Y]


def _numpy_namespace() -> dict[str, Any]:
    import numpy as np

    return {**namespace_for(numpy_math()), "_np": np, "_dot": np.dot}


def _backward_lines(nodes: list[Value], index: dict[Value, int], names: list[str],
                    numpy: bool) -> list[str]:
    """The chain rule for one sample (or, with `numpy`, a batch at once), last node first: each
    node's gradient times its op's local derivative, added into its operands' gradients."""
    bwd: list[str] = []
    seen: set[str] = set()
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        if not node._prev:
            continue
        a = [names[index[p]] for p in node._prev]
        grad = f"g{names[i][1:]}"
        for p, local in zip(node._prev, _local_exprs(node, a, names[i])):
            target = names[index[p]]
            if not p._prev and not target.startswith("p"):
                continue  # inputs, label, constants: nobody reads their grads
            g = f"g{target[1:]}" if target.startswith("v") else f"g{target}"
            # 1.0 * g is g exactly, so the multiplication is left out
            term = grad if local == "1.0" else f"{local} * {grad}"
            if numpy:
                if local == "0.0":
                    continue  # adds exact zeros (eager's max and pick do, to no effect)
                if local.startswith("_onehot("):
                    k = local[:-1].rsplit(", ", 1)[1]
                    term = f"_np.where({a[-1]} == {k}, {grad}, 0.0)"
                if g.startswith("gp"):  # a parameter: sum over the batch at once
                    term = f"_np.sum({grad})" if local == "1.0" else f"_dot({local}, {grad})"
                    bwd.append(f"{g} = {g} + {term}")
                else:
                    bwd.append(f"{g} = {g} + {term}" if g in seen else f"{g} = {term}")
                    seen.add(g)
            elif g in seen or g.startswith("gp"):
                bwd.append(f"{g} = {g} + {term}")
            else:  # the first contribution to an interior node: 0.0 + c, as eager's reset
                bwd.append(f"{g} = 0.0 + {term}")
                seen.add(g)
    return bwd


def _numpy_source(nparams: int, fwd: list[str], bwd: list[str], root: str, nin: int) -> str:
    """`loss` and `loss_and_backward` on arrays: every sample at once, a column per input."""
    params = range(nparams)
    unpack = [f"    p{j} = P[{j}].data" for j in params]
    columns = [f"    x{k} = X[:, {k}]" for k in range(nin)] + ["    y = Y"]
    lines = ["def loss(X, Y, P):", *unpack, *columns]
    lines += [f"    {s}" for s in fwd]
    lines += [f"    return float(_np.sum({root})) * (1.0 / len(Y))", ""]
    lines += ["def loss_and_backward(X, Y, P):", *unpack, *columns]
    lines += [f"    {s}" for s in fwd]
    lines += [f"    gp{j} = 0.0" for j in params]
    lines += [f"    g{root[1:]} = _np.full(len(Y), 1.0 * ((1.0 / len(Y)) * 1.0))"]
    lines += [f"    {s}" for s in bwd]
    lines += [f"    P[{j}].grad = P[{j}].grad + float(gp{j})" for j in params]
    lines += [f"    return float(_np.sum({root})) * (1.0 / len(Y))", ""]
    return "\n".join(lines)


def _python_source(nparams: int, fwd: list[str], bwd: list[str], root: str, nin: int) -> str:
    """`loss` and `loss_and_backward` on floats, sample by sample in eager's order: forward
    first to last, backward last to first, the mean summed left to right."""
    params = range(nparams)
    unpack = [f"    p{j} = P[{j}].data" for j in params]
    row = [f"        {', '.join(f'x{k}' for k in range(nin))}{',' if nin == 1 else ''}"
           " = X[i]", "        y = Y[i]"]
    lines = ["def loss(X, Y, P):", *unpack]
    lines += ["    total = 0.0", "    for i in range(len(Y)):", *row]
    lines += [f"        {s}" for s in fwd]
    lines += [f"        total = {root} if i == 0 else total + {root}"]
    lines += ["    return total * (1.0 / len(Y))", ""]
    lines += ["def loss_and_backward(X, Y, P):", *unpack]
    lines += [f"    gp{j} = P[{j}].grad" for j in params]
    lines += ["    d_loss_i = 1.0 * ((1.0 / len(Y)) * 1.0)  # d mean / d loss_i, as eager"]
    lines += ["    losses = [0.0] * len(Y)"]
    lines += ["    for i in range(len(Y) - 1, -1, -1):  # last sample first", *row]
    lines += [f"        {s}" for s in fwd]
    lines += [f"        losses[i] = {root}"]
    lines += [f"        g{root[1:]} = d_loss_i"]
    lines += [f"        {s}" for s in bwd]
    lines += [f"    P[{j}].grad = gp{j}" for j in params]
    lines += ["    total = losses[0]", "    for i in range(1, len(Y)):",
              "        total = total + losses[i]  # left to right, as Value.sum"]
    lines += ["    return total * (1.0 / len(Y))", ""]
    return "\n".join(lines)
