"""One training step for `micrograd train` and the playground.

The playground's session trains with the CLI's optimizer, through a registered engine and
`train.train_step`, so the same seed and settings give the same losses and weights on every
engine; regression is an engine built with another loss. `RunGuard` is built from one
`GuardedRun`, and the CLI parses its arguments once.
"""

import copy
import math

import pytest

from micrograd import backends, cli
from micrograd.backends import Engine
from micrograd.checkpoint import load_checkpoint
from micrograd.cli.args import Parser
from micrograd.config import TrainConfig, adamw
from micrograd.data import RNG
from micrograd.guard import GuardedRun, RunGuard
from micrograd.losses import squared_error
from micrograd.nn import chapter_mlp
from micrograd.optim import AdamW
from micrograd.playground.session import Config, Diverged, Session
from micrograd.train import History, make_engine, train, train_step

ENGINES = ("eager", "tape", "numpy", "torch")


def _installed(name):
    if not backends.installed(name):
        pytest.skip(f"the {name} engine is not installed here")


def _session_losses(session, steps):
    losses = []
    for _ in range(steps):
        assert session.train_steps(1) == 1
        losses.append(session.last_loss)
    return losses


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("batch_size", [0, 10])
def test_a_session_and_the_cli_loop_take_the_same_steps(name, batch_size):
    """Same data, weights, RNG and hyper-parameters: the session's losses and weights are the
    CLI loop's bit for bit, on every engine, full batch and with mini-batches."""
    _installed(name)
    s = Session(Config(dataset="moons", hidden=[8], batch_size=batch_size), engine=name)
    model = copy.deepcopy(s.model)
    rng = RNG(1)
    rng.state = s.rng.state  # the RNG where the session's mini-batch draws start
    opt = adamw(model, TrainConfig(lr=s.config.lr, weight_decay=s.config.weight_decay))
    losses = _session_losses(s, 12)
    result = train(model, opt, s.train, s.val, steps=12, eval_every=0, log=lambda _: None,
                   engine=name, batch_size=batch_size or None, rng=rng)
    assert result.history.train_loss == losses
    assert [p.data for p in model.parameters()] == [p.data for p in s.params]
    assert rng.state == s.rng.state  # the same number of draws


@pytest.mark.parametrize("name", ENGINES)
def test_the_session_trains_on_the_engine_its_name_builds(name):
    """Classification and regression alike: the registered engine of that name, with the
    session's own AdamW (the torch engine steps it), behind the typed interface."""
    _installed(name)
    for problem, dataset in (("classification", "moons"), ("regression", "gauss")):
        s = Session(Config(problem=problem, dataset=dataset, hidden=[4]), engine=name)
        model = copy.deepcopy(s.model)
        reference = make_engine(name, model, 2, AdamW(model.parameters()))
        assert isinstance(s.engine, Engine) and type(s.engine) is type(reference)
        assert s.optimizer.betas == TrainConfig().betas and s.optimizer.eps == TrainConfig().eps
        assert s.train_steps(3) == 3 and math.isfinite(s.last_loss)


@pytest.mark.parametrize("name", ["eager", "numpy", "torch"])
def test_regression_and_the_penalty_agree_on_every_engine(name):
    """The squared error and an L1 or L2 penalty give the tape's weights on every engine (eager:
    the same bits; numpy and torch: their sums in another order)."""
    _installed(name)
    for regularization in ("l1", "l2"):
        config = Config(problem="regression", dataset="gauss", hidden=[6], batch_size=16,
                        regularization=regularization, reg_rate=0.01)
        tape = Session(copy.deepcopy(config), engine="tape")
        other = Session(copy.deepcopy(config), engine=name)
        a, b = _session_losses(tape, 20), _session_losses(other, 20)
        if name == "eager":
            assert a == b and [p.data for p in tape.params] == [p.data for p in other.params]
        else:
            assert b == pytest.approx(a, rel=1e-10)
            for p, q in zip(tape.params, other.params):
                assert q.data == pytest.approx(p.data, rel=1e-10, abs=1e-13)


def test_the_regression_loss_is_the_mean_squared_error_on_each_engine():
    s = Session(Config(problem="regression", dataset="plane", hidden=[3]), engine="tape")
    X, Y = [x for x, _ in s.train], [y for _, y in s.train]
    expected = math.fsum((s.model.predict(x)[0] - y) ** 2 for x, y in zip(X, Y)) / len(Y)
    for name in ENGINES:
        if backends.installed(name):
            engine = make_engine(name, s.model, 2, AdamW(s.model.parameters()),
                                 loss=squared_error)
            assert engine.loss(X, Y) == pytest.approx(expected, rel=1e-12), name


def test_an_engine_that_trains_cross_entropy_only_refuses_another_loss(tmp_path):
    from micrograd.backends.eager import EagerEngine

    backends.register("ce-only", lambda model, nin, optimizer=None, device="cpu":
                      EagerEngine(model))
    try:
        model = chapter_mlp([2, 1], rng=RNG(3))
        with pytest.raises(ValueError, match="ce-only engine trains cross-entropy only"):
            make_engine("ce-only", model, 2, loss=squared_error)
    finally:
        backends._REGISTRY.pop("ce-only")


@pytest.mark.parametrize("name", ENGINES)
def test_a_non_finite_loss_stops_before_the_update(name):
    """The loss is checked between the gradient and the update: the weights stay as they were,
    the gradients are zeroed, the step is not counted, and training refuses to go on."""
    _installed(name)
    s = Session(Config(problem="regression", dataset="plane", hidden=[2]), engine=name)
    s.train_steps(2)
    s.params[-1].data = 1e200  # the output's bias: (out - y)² overflows to inf
    before = [p.data for p in s.params]
    with pytest.raises(Diverged, match="the loss became inf at step 2"):
        s.train_steps(1)
    assert [p.data for p in s.params] == before and s.step == 2
    assert all(p.grad == 0.0 for p in s.params)
    with pytest.raises(Diverged):
        s.train_steps(1)


def _tape_step(hook=None, weight_decay=0.01):
    """One `train_step` of a small model on the tape engine; (loss, weights after)."""
    model = chapter_mlp([2, 3, 2], rng=RNG(5))
    opt = AdamW(model.parameters(), lr=0.1, weight_decay=weight_decay)
    engine = make_engine("tape", model, 2, opt)
    X, Y = engine.batch([[0.5, -1.0], [1.5, 0.25]], [0, 1])
    before_update = None if hook is None else (lambda loss: hook(loss, model.parameters()))
    loss = train_step(engine, opt, X, Y, before_update=before_update)
    return loss, [p.data for p in model.parameters()]


def test_before_update_sees_the_gradient_and_its_changes_are_stepped():
    """`train_step`'s hook runs with the gradient in `.grad`; what it leaves there is updated."""
    plain = _tape_step()
    calls = []
    seen = _tape_step(lambda loss, ps: calls.append((loss, any(p.grad != 0.0 for p in ps))))
    assert seen == plain and calls == [(plain[0], True)]

    def drop(loss, params):
        for p in params:
            p.grad = 0.0

    start = [p.data for p in chapter_mlp([2, 3, 2], rng=RNG(5)).parameters()]
    assert _tape_step(drop, weight_decay=0.0)[1] == start  # a zero gradient moves nothing


# ---- the guard, from one description of the run ----


def test_run_guard_is_built_from_one_guarded_run(tmp_path):
    model = chapter_mlp([2, 3], rng=RNG(1))
    opt, rng = AdamW(model.parameters()), RNG(7)
    history = History([0, 1], [1.0, 0.9], [None, None])
    seen = []
    run = GuardedRun(str(tmp_path), model, opt, rng, config={"lr": 0.1}, data_sha256="0" * 64,
                     train_split=[([0.0, 1.0], 0)], val_split=[], steps=10, save_every=2,
                     start_step=1, saved_step=None, history=history,
                     after=lambda step, h: seen.append(step))
    guard = RunGuard(run)
    assert guard.context is run and guard.done == 1 and guard.history is history
    assert guard.steps == 10 and guard.save_every == 2 and guard.saved_step is None
    with guard:
        guard.on_step(1, history)  # two steps done: a checkpoint is due
    assert seen == [1] and guard.saved_step == 2
    ckpt = load_checkpoint(str(tmp_path / "checkpoint.json"))
    assert ckpt.step == 2 and ckpt.config == {"lr": 0.1}


# ---- the CLI parses its arguments once ----


def test_the_train_parser_records_the_options_typed():
    args = cli.build_parser().parse_args(["train", "--steps", "100", "--lr", "0.05"])
    assert args.given == {"steps": 100, "lr": 0.05}  # 100 is the default, and it was typed
    assert args.hidden == [16] and args.out is None and args.resume is None
    assert cli.build_parser().parse_args(["train"]).given == {}


def test_resuming_parses_argv_once(tmp_path, monkeypatch, capsys):
    out = str(tmp_path / "run")
    assert cli.main(["train", "--steps", "3", "--no-plot", "--quiet", "--out", out]) == 0
    calls = []
    parse = Parser.parse_args

    def counted(self, *args, **kwargs):
        calls.append(args)
        return parse(self, *args, **kwargs)

    monkeypatch.setattr(Parser, "parse_args", counted)
    assert cli.main(["train", "--resume", out, "--steps", "5", "--quiet", "--no-plot"]) == 0
    assert len(calls) == 1
    assert load_checkpoint(out + "/checkpoint.json").step == 5
    capsys.readouterr()
