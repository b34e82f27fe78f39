"""The playground's `walk` message: backprop, step by step, for the graph the panel shows.

The page asks with `{"type": "walk"}`; the answer is `micrograd.walk.backprop_steps` of the picked
point's graph on the current weights, `{"type": "walk", "id": graph_id, "steps": [...], "data":
[...], "grad": [...]}`: the steps index the same `root.topo()` that names the SVG's boxes `v{i}`,
and `views` holds the walk's own pictures of the graph's parts (`micrograd.walkview`: a neuron in
focus, or the model with the other neurons folded) with the same box ids; `view_of_step` says
which picture each step is shown on. `data` and `grad` are the
boxes' numbers as `graph_values` writes them: the walk starts from those data and must end on
those grads. In head mode (a graph too big to draw whole) the panel draws the output layer and
the loss only, and that drawn part is what is walked. A walk that cannot be made is answered with
`steps: null` and a one-line `error`, as the `graph` message says why there is no picture.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from micrograd.engine import Value
from micrograd.graph import fmt_number
from micrograd.walk import MAX_WALK_NODES, backprop_steps, walk_names
from micrograd.walkview import walk_views
from micrograd.words import message_of, said, words_json


def walk_payload(root: Value, names: dict[Value, str] | None = None,
                 layout: Callable[[str], str] | None = None, **style: Any) -> dict[str, Any]:
    """The steps and the boxes' numbers of `root`'s graph (whose grads `backward()` has filled),
    and with `layout` (DOT text to SVG text) the walk's pictures (`micrograd.walkview`; `style`
    as `to_dot`'s `params`, `inputs`, `groups`): `views` and `view_of_step`.

    A ValueError says why there is no walk: too many values, or numbers that are not finite.
    """
    nodes = root.topo()
    if len(nodes) > MAX_WALK_NODES:
        raise ValueError(said("this graph has {n} values, too many to walk (at most {most}); "
                              "use fewer or narrower layers", n=len(nodes), most=MAX_WALK_NODES))
    names = walk_names(root, names)  # every box named, as the steps name it
    steps = backprop_steps(root, names)
    numbers = [v.data for v in nodes] + [s.grad for s in steps if s.grad is not None]
    if not all(math.isfinite(x) for x in numbers):
        raise ValueError(said("the graph's numbers are not finite; lower the learning rate and "
                              "press reset"))
    views = ({"views": None, "view_of_step": None} if layout is None else
             walk_views(root, steps, names=names, layout=layout, **style))
    return {"steps": [_step_json(s) for s in steps], "data": [fmt_number(v.data) for v in nodes],
            "grad": [fmt_number(v.grad) for v in nodes], **views}


def _step_json(step: Any) -> dict[str, Any]:
    """A step as the page reads it; a step whose text is a sentence carries its `words`
    (`micrograd.words`), which the page says in its language."""
    out = asdict(step)
    words = words_json(step.text)
    return {**out, "words": words} if words else out


def walk_message(session: Any, layout: Callable[[str], str] | None = None) -> dict[str, Any]:
    """The answer to `{"type": "walk"}` for `session` (a playground `Session`); `layout` draws
    its pictures (without it the message has none)."""
    msg: dict[str, Any] = {"type": "walk", "id": session.graph_id, "step": session.step,
                           "steps": None}
    if session.picked_point() is None:
        return _refused(msg, said("there is no point to walk: click a point on the plane first"))
    try:
        trace, mode = session.trace()
        style = {"params": trace.params, "inputs": trace.inputs, "groups": trace.groups}
        return {**msg, "mode": mode, **walk_payload(trace.loss, trace.names, layout, **style)}
    except (ArithmeticError, ValueError, RuntimeError) as e:  # RuntimeError: the layout failed
        return _refused(msg, said("walk: {why}", why=message_of(e)))


def _refused(msg: dict[str, Any], error: str) -> dict[str, Any]:
    """The answer without steps: its one-line `error` and that sentence's `words`."""
    return {**msg, "error": error, "words": words_json(error)}
