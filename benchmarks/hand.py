"""The limit: the chapter's run written by hand in NumPy, no autograd at all.

The same data and initial weights as the other workloads (`chapter_weights`), an MLP with tanh
hidden layers, the mean softmax cross-entropy (log-sum-exp with the max shifted out, as
`micrograd.losses.cross_entropy`), its gradient written out (softmax - one-hot), and AdamW on
whole arrays with the operations of `micrograd.optim.AdamW` (PyTorch's lerp, addcmul, addcdiv),
so its log matches the chapter's within 1e-12. What no engine on NumPy can beat.
"""

from __future__ import annotations

from collections.abc import Callable

from workloads import BETAS, EPS, EVAL_EVERY, LR, WEIGHT_DECAY, chapter_weights


def prepare(n: int, sizes: tuple[int, ...]):
    import numpy as np

    from micrograd.data import RNG, gen_data

    rng = RNG(42)
    train_split, val_split, _ = gen_data(rng, n=n)
    weights = [np.array(rows) for rows in chapter_weights(rng, list(sizes))]
    params = [a for w in weights for a in (w, np.zeros(w.shape[0]))]  # W1, b1, W2, b2, ...
    X = np.array([x for x, _ in train_split])
    Y = np.array([y for _, y in train_split])
    Xv = np.array([x for x, _ in val_split])
    Yv = np.array([y for _, y in val_split])
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2 = BETAS

    def forward(X: np.ndarray) -> list[np.ndarray]:
        acts = [X]
        for i in range(0, len(params), 2):
            z = acts[-1] @ params[i].T + params[i + 1]
            acts.append(np.tanh(z) if i + 2 < len(params) else z)
        return acts

    def loss_of(logits: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1)
        rows = np.arange(len(Y))
        losses = np.log(total) - shifted[rows, Y]
        return float(losses.sum()) * (1.0 / len(Y)), e / total[:, None]

    def backward(acts: list[np.ndarray], softmax: np.ndarray) -> list[np.ndarray]:
        g = softmax
        g[np.arange(len(Y)), Y] -= 1.0
        g *= 1.0 / len(Y)
        grads: list[np.ndarray] = [None] * len(params)  # type: ignore[list-item]
        for i in range(len(params) - 2, -1, -2):
            a = acts[i // 2]
            grads[i], grads[i + 1] = g.T @ a, g.sum(axis=0)
            if i:
                g = (g @ params[i]) * (1 - a**2)  # through the tanh that made a
        return grads

    def adamw(t: int, grads: list[np.ndarray]) -> None:
        decay = 1 - LR * WEIGHT_DECAY
        step_size = LR / (1 - beta1**t)
        bias_correction2_sqrt = (1 - beta2**t) ** 0.5
        for p, g, mi, vi in zip(params, grads, m, v):
            p *= decay
            mi += (1 - beta1) * (g - mi)  # lerp with weight < 0.5
            vi[...] = vi * beta2 + (1 - beta2) * g * g
            denom = np.sqrt(vi) / bias_correction2_sqrt + eps
            p[...] = p + -step_size * mi / denom

    eps = EPS

    def loop(steps: int, log: Callable[[str], None]) -> None:
        for step in range(steps):
            if step % EVAL_EVERY == 0:
                log(f"step {step}, val loss {loss_of(forward(Xv)[-1], Yv)[0]:.6f}")
            acts = forward(X)
            loss, softmax = loss_of(acts[-1], Y)
            adamw(step + 1, backward(acts, softmax))
            log(f"step {step}, train loss {loss}")

    return loop
