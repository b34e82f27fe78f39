"""Neural-network building blocks on top of `Value`, named and shaped like PyTorch's.

`Module` gives `parameters()` and `zero_grad()`; `Neuron`, `Layer` and `MLP` are micrograd 0.1.0's
by default, so Karpathy's notebooks run unchanged and print what they print with 0.1.0: ReLU
hidden neurons, weights `uniform(-1, 1)`, bias 0, and the neuron as the chain
`sum((wi*xi for ...), b)`, whose graph is 0.1.0's node for node. Keywords choose the rest:
`activation` (a name of the settings' table `ACTIVATIONS`), `init="scaled"` (the chapter's
uniform(-1, 1)/sqrt(nin)), `fused=True` (one `w·x+b` node per neuron: same floats, far fewer
nodes) and `rng`. The chapter's model is `chapter_mlp([2, 16, 3], rng=rng)`. Without `rng` the
`random` module itself is used, so `random.seed(1337)` works as in the lecture.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from numbers import Real
from typing import Any

from micrograd.compiled import RUNNING
from micrograd.engine import LINEAR, Value
from micrograd.ops import FLOAT_MATH, REGISTERED
from micrograd.settings import ACTIVATION, SETTING

ACTIVATIONS = tuple(ACTIVATION)  # the settings' table, in its order
# each activation's op, by the name the table gives it (None: the identity)
_ACTIVATION_OPS = {a.name: REGISTERED[a.op] if a.op else None for a in ACTIVATION.values()}
INITS = ("scaled", "uniform")
INIT_ALIASES = {"seed": "scaled"}  # the name programs written before "scaled" use


class Module:
    """Base class: anything that owns parameters."""

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        return []


class Neuron(Module):
    """act(w · x + b): one weight per input, bias 0 at start.

    `nonlin` is 0.1.0's switch and is read at every call, so `neuron.nonlin = False` makes it
    linear from then on; `activation` names the non-linearity used while `nonlin` is on.
    """

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        *,
        activation: str = "relu",
        rng: Any = None,
        init: str = "uniform",
        fused: bool = False,
    ):
        _check_count("nin", nin)
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {ACTIVATIONS}")
        init = INIT_ALIASES.get(init, init)
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {INITS}")
        rng = random if rng is None else rng
        # "uniform": micrograd 0.1.0's uniform(-1, 1); "scaled": the chapter's, times 1/sqrt(nin)
        scale = nin**-0.5 if init == "scaled" else 1.0
        self.w = [Value(rng.uniform(-1, 1) * scale) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin
        self.nonlinearity = activation
        self.fused = fused  # one `w·x+b` node (fast); False: 0.1.0's chain of `*` and `+`

    @property
    def activation(self) -> str:
        """The activation applied now: `nonlinearity` while `nonlin` is on, else "linear"."""
        return self.nonlinearity if self.nonlin else "linear"

    @activation.setter
    def activation(self, name: str) -> None:
        if name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; choose one of {ACTIVATIONS}")
        self.nonlin = name != "linear"
        if self.nonlin:
            self.nonlinearity = name

    def __call__(self, x: Sequence[Value | float] | Value | float) -> Value:
        x = _as_inputs(x, len(self.w), "Neuron")
        scope = RUNNING.scope  # inside micrograd.compile: replayed (see micrograd.compiled)
        return self.forward(x) if scope is None else scope.call(self, x, self._outputs)[0]

    def _outputs(self, x: list[Value]) -> list[Value]:
        return [self.forward(x)]

    def _structure(self) -> tuple | None:
        """What this neuron's graph depends on besides its inputs, compared by `micrograd.compile`
        at every call; None for a subclass, whose own code may read anything."""
        if type(self) is not Neuron:
            return None
        return (self.nonlin, self.nonlinearity, self.fused, self.b, *self.w)

    def forward(self, x: list[Value]) -> Value:
        """The neuron on a checked list of Values (what `__call__` and `Layer` use)."""
        if self.fused:
            act = Value.linear(self.w, x, self.b)
        else:  # b + w0 x0 + w1 x1 + ..., left to right: 0.1.0's `sum(..., self.b)`
            act = self.b
            for wi, xi in zip(self.w, x):
                act = act + wi * xi
        activation = self.activation
        if activation == "linear":
            return act
        return getattr(act, activation)()

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def predict(self, x: Sequence[float]) -> float:
        """The same forward pass on plain floats: no graph, for plots and grids."""
        act = LINEAR.forward(FLOAT_MATH, self.b.data, *(wi.data for wi in self.w), *x)
        return activate(self.activation, act)

    def __repr__(self) -> str:
        return f"{ACTIVATION[self.activation].label}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons that all read the same inputs."""

    def __init__(self, nin: int, nout: int, **kwargs: Any):
        _check_count("nout", nout)
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def predict(self, x: Sequence[float]) -> list[float]:
        return [n.predict(x) for n in self.neurons]

    def forward(self, x: list[Value]) -> list[Value]:
        """Always a list, so a one-neuron layer can feed the next layer."""
        return [n.forward(x) for n in self.neurons]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        x = _as_inputs(x, len(self.neurons[0].w), "Layer")
        scope = RUNNING.scope
        out = self.forward(x) if scope is None else scope.call(self, x, self.forward)
        return out[0] if len(out) == 1 else out  # Karpathy's convention: one output, bare Value

    def _structure(self) -> tuple | None:
        return _structure_of(self, Layer, self.neurons)

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Multi-layer perceptron: hidden layers use `activation`, the output layer is linear."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        *,
        activation: str = "relu",
        rng: Any = None,
        init: str = "uniform",
        fused: bool = False,
    ):
        if isinstance(nouts, int) or not nouts:
            raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        rng = random if rng is None else rng
        self.activation = activation
        sizes = [nin, *nouts]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1,
                  activation=activation, rng=rng, init=init, fused=fused)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        x = _as_inputs(x, len(self.layers[0].neurons[0].w), "MLP")
        scope = RUNNING.scope
        x = self._forward(x) if scope is None else scope.call(self, x, self._forward)
        return x[0] if len(x) == 1 else x

    def _forward(self, x: list[Value]) -> list[Value]:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def _structure(self) -> tuple | None:
        return _structure_of(self, MLP, self.layers)

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def predict(self, x: Sequence[float]) -> list[float]:
        """Logits for one point as plain floats (equal to the Value forward, bit for bit)."""
        nin = len(self.layers[0].neurons[0].w)
        if len(x) != nin:
            raise ValueError(f"MLP expects {nin} inputs, got {len(x)}")
        for layer in self.layers:
            x = layer.predict(x)
        return x

    @classmethod
    def from_weights(
        cls, sizes: Sequence[int], weights: Sequence[float], *, activation: str,
        fused: bool = True,
    ) -> MLP:
        """An MLP of `sizes` ([nin, hidden..., nout]) holding `weights` in `parameters()` order.

        Draws no random numbers, so rebuilding a saved model leaves every RNG as it was.
        `activation` (the hidden layers') has no default: it is the saved model's own. Neurons
        are fused (`w·x+b` nodes): the chain's floats, a third of the nodes.
        """
        if len(sizes) < 2:
            raise ValueError(f"sizes must be [nin, ..., nout], got {list(sizes)!r}")
        model = cls(sizes[0], list(sizes[1:]), activation=activation, rng=_NoDraw(), fused=fused)
        params = model.parameters()
        if len(weights) != len(params):
            raise ValueError(f"an MLP {list(sizes)} has {len(params)} parameters, "
                             f"got {len(weights)} weights")
        for p, w in zip(params, weights):
            p.data = float(w)
        return model

    def to_torch(self) -> Any:
        """An equivalent float64 `torch.nn.Sequential` with these weights (needs torch)."""
        from micrograd.torch_bridge import mlp_to_torch

        return mlp_to_torch(self)

    @classmethod
    def from_torch(cls, module: Any) -> MLP:
        """An MLP with the weights of a Sequential of Linear layers and activations."""
        from micrograd.torch_bridge import read_torch

        sizes, weights, activation = read_torch(module)
        return MLP.from_weights(sizes, weights, activation=activation)

    @property
    def sizes(self) -> list[int]:
        """[nin, hidden..., nout], e.g. [2, 16, 3] for the chapter's model."""
        return [len(self.layers[0].neurons[0].w)] + [len(layer.neurons) for layer in self.layers]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def activate(activation: str, z: Any, m: Any = FLOAT_MATH) -> Any:
    """An activation's forward rule on plain numbers, no graph: floats by default, or the
    numbers of the math namespace `m` (e.g. `micrograd.ops.numpy_math()` for arrays)."""
    op = _ACTIVATION_OPS[activation]
    return z if op is None else op.forward(m, z)


def chapter_mlp(sizes: Sequence[int], activation: str = SETTING["activation"].default,
                rng: Any = None) -> MLP:
    """The chapter's kind of MLP for `sizes` ([nin, hidden..., nout]), as `micrograd train`
    builds it: `activation` in the hidden layers, weights uniform(-1, 1)/sqrt(nin) drawn from
    `rng`, and fused `w·x+b` neurons (the chain's floats with a third of the nodes)."""
    if len(sizes) < 2:
        raise ValueError(f"sizes must be [nin, ..., nout], got {list(sizes)!r}")
    return MLP(sizes[0], list(sizes[1:]), activation=activation, init="scaled", fused=True,
               rng=rng)


seed_mlp = chapter_mlp  # its name before "seed" came to mean the RNG's seed only


class _NoDraw:
    """An rng for `from_weights`: every weight starts at 0 and is then overwritten."""

    def uniform(self, a: float, b: float) -> float:
        return 0.0


def _as_inputs(x: Sequence[Value | float] | Value | float, nin: int, who: str) -> list[Value]:
    """Inputs as a list of Values of the right length; a single input may come bare."""
    xs = [x] if isinstance(x, (Value, Real)) else list(x)
    if len(xs) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(xs)}")
    return [v if isinstance(v, Value) else Value(v) for v in xs]


def _structure_of(module: Module, cls: type, parts: list[Any]) -> tuple | None:
    """A Layer's or an MLP's `_structure()`: its parts', or None if any is a subclass's."""
    if type(module) is not cls:
        return None
    structure = tuple(part._structure() for part in parts)
    return None if None in structure else structure


def _check_count(name: str, n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
