"""Move an `MLP` to PyTorch and back: the path for users who outgrow scalars.

`MLP.to_torch()` gives a float64 `torch.nn.Sequential` of `Linear` layers and activations with the
same weights; `MLP.from_torch(module)` reads such a module back. torch is imported here only.
This module reads and builds torch modules and knows nothing else: the MLP is read through its
layers and neurons, and what comes back from torch is the sizes, weights and activation that
`MLP.from_weights` takes, so `nn` depends on this module and not the other way round.
"""

from __future__ import annotations

from typing import Any

from micrograd.settings import ACTIVATIONS, SETTING

_TORCH_ACTIVATIONS = {a.name: a.torch for a in ACTIVATIONS if a.torch}  # the settings' table


def mlp_to_torch(model: Any) -> Any:
    """An equivalent `torch.nn.Sequential` in float64: Linear, activation, ..., Linear."""
    import torch

    layers: list[Any] = []
    for i, layer in enumerate(model.layers):
        linear = torch.nn.Linear(len(layer.neurons[0].w), len(layer.neurons), dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons],
                                             dtype=torch.float64))
            linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons],
                                           dtype=torch.float64))
        layers.append(linear)
        activation = layer.neurons[0].activation
        if i < len(model.layers) - 1 and activation != "linear":
            layers.append(getattr(torch.nn, _TORCH_ACTIVATIONS[activation])())
    return torch.nn.Sequential(*layers)


def read_torch(module: Any) -> tuple[list[int], list[float], str]:
    """(sizes, weights, activation) of a Sequential of Linear layers and one kind of activation:
    `MLP.from_weights`'s arguments, weights in `MLP.parameters()` order."""
    import torch

    children = list(module.children()) if isinstance(module, torch.nn.Sequential) else [module]
    names = {v: k for k, v in _TORCH_ACTIVATIONS.items()}
    linears, activations = [], []
    for child in children:
        kind = type(child).__name__
        if isinstance(child, torch.nn.Linear):
            linears.append(child)
        elif kind in names and linears and len(activations) < len(linears):
            activations.append(names[kind])
        elif isinstance(child, torch.nn.Identity):
            continue
        else:
            raise ValueError(f"from_torch: cannot map {kind}; expected Linear layers with "
                             f"{'/'.join(names)} between them and a Linear last")
    if not linears:
        raise ValueError("from_torch: the module has no Linear layer")
    if len(activations) != len(linears) - 1 or len(set(activations)) > 1:
        raise ValueError("from_torch: need one activation (all of the same kind) between "
                         "consecutive Linear layers and none after the last")
    sizes = [linears[0].in_features] + [lin.out_features for lin in linears]
    weights: list[float] = []
    for linear in linears:
        bias = (linear.bias.detach().to(torch.float64).tolist() if linear.bias is not None
                else [0.0] * linear.out_features)
        for row, b in zip(linear.weight.detach().to(torch.float64).tolist(), bias):
            weights += [*row, b]
    return sizes, weights, activations[0] if activations else SETTING["activation"].default
