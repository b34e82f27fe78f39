"""How a node keeps its parents and their local derivatives: in its own slots, not in tuples.

Nearly every node has one or two operands (`+`, `*`, the activations). Such a node keeps them in
the slots `_a` and `_b` and their local derivatives in `_da` and `_db`, so building it allocates
one object, the node. Tuples would be two more per node, and Python's cycle collector counts every
allocation and walks every live container: a training step's graph of 65,818 nodes as three times
as many objects made an unchanged loop spend more time in the collector than in its arithmetic.

The layout (`_prev` and `_local`, 0.1.0's and the lecture's names, are properties made from it):

| node             | `_a`             | `_b`       | `_da`                   | `_db`        |
|------------------|------------------|------------|-------------------------|--------------|
| leaf             | None             | None       | None (an op's: `()`)    | unset        |
| one parent       | the parent       | None       | its local derivative    | unset        |
| two parents      | the first        | the second | the first's             | the second's |
| any other count  | tuple of parents | `MANY`     | tuple of locals         | unset        |

`_da` is None for a node without local derivatives: one built by user code with its own
`_backward` closure (the lecture's style). Locals set by hand with a length that does not match
the parents keep the general form, so they pair as `zip` pairs them, as they always did.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class _Many:
    """`_b` of a node whose `_a` is a tuple of parents (three or more, as a wide op makes)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MANY"


MANY = _Many()


def parents_of(node: Any) -> tuple:
    """`node._prev`: its parents in operand order, a new tuple."""
    a = node._a
    if a is None:
        return ()
    b = node._b
    if b is None:
        return (a,)
    if b is MANY:
        return a
    return (a, b)


def set_parents(node: Any, parents: Iterable[Any]) -> None:
    """`node._prev = parents`: stored in the layout; locals already set are kept with them."""
    try:
        local = locals_of(node)
    except AttributeError:  # a blank node being filled in (a copy, a pickle)
        local = None
    parents = tuple(parents)
    if not parents:
        node._a = node._b = None
    elif len(parents) == 1:
        node._a, node._b = parents[0], None
    elif len(parents) == 2:
        node._a, node._b = parents
    else:
        node._a, node._b = parents, MANY
    set_locals(node, local)


def locals_of(node: Any) -> tuple | None:
    """`node._local`: d node / d parent, one per parent; None if the node has no local rule."""
    da = node._da
    if da is None or node._a is None:
        return da
    b = node._b
    if b is None:
        return (da,)
    if b is MANY:
        return da
    return (da, node._db)


def set_locals(node: Any, local: Iterable[Any] | None) -> None:
    """`node._local = local`, stored beside the parents it pairs with."""
    if local is None:
        node._da = None
        return
    local = tuple(local)
    a, b = node._a, node._b
    if a is None or b is MANY:
        node._da = local
    elif len(local) == (1 if b is None else 2):
        if b is None:
            node._da = local[0]
        else:
            node._da, node._db = local
    else:  # a count that does not match: the general form pairs them as zip does
        node._a, node._b, node._da = ((a,) if b is None else (a, b)), MANY, local


def link(node: Any, parents: tuple, local: tuple) -> None:
    """Store an op's parents and locals (same count) on a node being made."""
    n = len(parents)
    if n == 2:
        node._a, node._b = parents
        node._da, node._db = local
    elif n == 1:
        node._a, node._b, node._da = parents[0], None, local[0]
    elif n == 0:
        node._a = node._b = None
        node._da = local
    else:
        node._a, node._b, node._da = parents, MANY, local


def topo(root: Any, leaves: bool = True) -> list:
    """`root.topo(leaves)`: the graph below `root`, parents first, depth-first from `root` with the
    first operand first; leaves listed (or, with `leaves=False`, skipped), never expanded.

    No object is made per node (a node's state is a small int in one dict), so a big graph's sort
    triggers no collection of Python's garbage collector, which would walk the graph.
    """
    order: list = []
    state: dict[Any, int] = {}  # 1: its parents are being listed; 2: listed or skipped
    stack: list = [root]  # identity hashing: Value defines no __eq__/__hash__
    while stack:
        node = stack.pop()
        seen = state.get(node)
        if seen == 1:
            state[node] = 2
            order.append(node)
        elif seen is None:
            a = node._a
            if a is None:
                state[node] = 2
                if leaves:
                    order.append(node)
                continue
            state[node] = 1
            stack.append(node)  # popped again once its parents are listed
            b = node._b  # pushed last operand first, so the first operand pops first
            if b is MANY:
                for parent in reversed(a):
                    if (leaves or parent._a is not None) and parent not in state:
                        stack.append(parent)
                continue
            if b is not None and (leaves or b._a is not None) and b not in state:
                stack.append(b)
            if (leaves or a._a is not None) and a not in state:
                stack.append(a)
    return order
