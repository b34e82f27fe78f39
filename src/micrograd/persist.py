"""Copies and pickles of whole graphs, walked once, parents first, without recursion.

A `Value` refers to its parents, so Python's default `copy.deepcopy` and `pickle` descend a graph
one level of stack per node, and a chain a few hundred nodes deep raises RecursionError. Here a
graph is walked as `backward()` walks it, from `topo()`:

- deepcopy: each node is copied after its parents, so its `_prev` reads their copies from the
  memo. Ops are not copied: an op is its rules, shared by every graph (`Op.__deepcopy__`).
- pickle: the first node of a graph to be pickled (its root) writes its interior ancestors,
  parents first, before its own fields; each of those is then written with its own fields only,
  and the nodes of its `_prev` are already in the pickle, so the pickler never nests deeper than
  one node. Shared nodes stay shared, as pickle keeps them: a model's parameters pickled next to
  its loss are, after loading, the very leaves of the loaded loss.

Float gradients flow through the local derivatives a node stores (`_local`), so a loaded graph
backpropagates whatever became of its ops' rules (`Op.__reduce__`). A node made in the lecture's
style, with its own `_backward` closure, is copied with that closure (which still updates the
original nodes, as every node of micrograd 0.1.0 does after a deepcopy) and cannot be pickled.
"""

from __future__ import annotations

import copy
import pickle
import threading
from typing import Any

_thread = threading.local()


def _pending() -> dict[int, Any]:
    """Nodes listed ahead by a root being pickled in this thread, by id (held, so ids stay
    unique), until they are written or the root is done with them."""
    pending = getattr(_thread, "pending", None)
    if pending is None:
        pending = _thread.pending = {}
    return pending


def shallow_copy(node: Any) -> Any:
    """`copy.copy`: a new node with the same data, grad, op and parents (0.1.0's too)."""
    new = object.__new__(type(node))
    _set_fields(new, _fields(node))
    return new


def deepcopy_graph(root: Any, memo: dict[int, Any]) -> Any:
    """`copy.deepcopy(root, memo)`: every node below `root` copied once, parents first."""
    nodes = root.topo()
    memo.setdefault(id(memo), []).append(nodes)  # as `copy` does: the ids in memo stay unique
    for node in nodes:
        if id(node) in memo:  # copied already, by an earlier deepcopy with this memo
            continue
        refused = getattr(node, "refuse_copy", None)  # a node that is not its fields alone
        if refused:
            raise TypeError(refused)
        new = memo[id(node)] = object.__new__(type(node))
        new.data, new._op = node.data, node._op
        new._prev = tuple(memo[id(p)] for p in node._prev)
        grad, local = node.grad, node._local  # floats, or Values made with create_graph
        new.grad = grad if type(grad) is float else copy.deepcopy(grad, memo)
        new._local = local if _floats(local) else copy.deepcopy(local, memo)
        if node.__dict__:
            new.__dict__.update(copy.deepcopy(node.__dict__, memo))
    return memo[id(root)]


def _floats(local: tuple | None) -> bool:
    return local is None or all(type(x) is float for x in local)  # immutable: shared as it is


def _fields(node: Any) -> tuple:
    return (node.data, node.grad, node._prev, node._local, node._op, node.__dict__ or None)


def _set_fields(node: Any, fields: tuple) -> None:
    node.data, node.grad, node._prev, node._local, node._op, extra = fields
    if extra:
        node.__dict__.update(extra)


def blank(cls: type) -> Any:
    """A node to be filled in by `restore` (what a pickle calls first)."""
    return object.__new__(cls)


def reduce_node(node: Any) -> tuple:
    """`node.__reduce_ex__`: a blank node, then its state (ancestors first for a root)."""
    pending = _pending()
    if pending.pop(id(node), None) is not None or not node._prev:
        return blank, (type(node),), (None, None, _fields(node))
    ancestors = node.topo(leaves=False)[:-1]
    for n in (*ancestors, node):
        closure = getattr(n, "_closure", None)
        if closure is not None and not _picklable(closure):
            raise TypeError(f"pickle: node {str(n._op)!r} has its own _backward closure (the "
                            "lecture's style), which pickle cannot store; make the node with an "
                            "Op (micrograd.Op) to pickle its graph")
    listed = [n for n in ancestors if id(n) not in pending]
    for n in listed:
        pending[id(n)] = n
    return blank, (type(node),), (ancestors, _Done(listed), _fields(node))


def restore(node: Any, state: tuple) -> None:
    """`node.__setstate__`: the node's own fields (listed ancestors have restored themselves)."""
    _set_fields(node, state[-1])


class _Done:
    """Written right after a root's ancestors: they are no longer pending in this thread."""

    def __init__(self, nodes: list):
        self.nodes = nodes

    def __reduce__(self) -> tuple:
        pending = _pending()
        for n in self.nodes:
            pending.pop(id(n), None)
        return _nothing, ()


def _nothing() -> None:
    return None


def _picklable(obj: Any) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:  # pickle raises what the object's own reduction raises
        return False
    return True
