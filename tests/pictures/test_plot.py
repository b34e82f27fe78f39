"""Pictures of a run: decision boundary, first-layer neurons, the training GIF, and grid speed.

Each picture is opened and checked for what can be checked: its size, that it is not blank
(pixel spread), and for the boundary that every class's colour covers part of the plane.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageStat

from micrograd import animate, cli, plot
from micrograd.animate import Snapshots, frame_every
from micrograd.data import RNG, gen_data
from micrograd.engine import Value
from micrograd.nn import chapter_mlp
from micrograd.optim import AdamW
from micrograd.train import History, train


def chapter_setup(hidden=(16,), activation="tanh"):
    rng = RNG(42)
    tr, va, te = gen_data(rng, n=100)
    return chapter_mlp([2, *hidden, 3], activation, rng=rng), {"train": tr, "val": va,
                                                                     "test": te}


@pytest.fixture(scope="module")
def trained():
    model, splits = chapter_setup()
    opt = AdamW(model.parameters(), lr=0.1, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-4)
    train(model, opt, splits["train"], splits["val"], steps=100, eval_every=0, log=lambda s: None)
    return model, splits


def spread(path: Path) -> float:
    with Image.open(path) as im:
        return ImageStat.Stat(im.convert("L")).stddev[0]


# ---- the plain-float grid forward ----


@pytest.mark.parametrize(("hidden", "activation"), [
    ((16,), "tanh"), ((8, 8), "relu"), ((5,), "sigmoid"), ((), "tanh"),
])
def test_grid_forward_equals_the_models_predict(hidden, activation):
    rng = RNG(7)
    model = chapter_mlp([2, *hidden, 3], activation, rng=rng)
    for p in model.parameters():
        p.data += rng.uniform(-1, 1)  # non-zero biases too
    _, _, points = plot.grid((-3, 3, -2, 2), 23)
    fast = plot.predict_points(model, points)
    slow = np.array([model.predict(list(p)) for p in points])
    assert fast.shape == (23 * 23, 3)
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def test_grid_forward_falls_back_to_predict_for_other_models():
    class Halfplane:  # anything with predict(x) -> logits
        def predict(self, x):
            return [x[0] - x[1], 0.0]

    out = plot.predict_points(Halfplane(), [[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_array_equal(out, [[1.0, 0.0], [-2.0, 0.0]])


def test_a_100x100_grid_builds_no_graph(trained, monkeypatch):
    """Plain floats through the layers, never a Value per point (the milliseconds it takes are
    measured by `python benchmarks/timings.py`)."""
    model, _ = trained
    _, _, points = plot.grid((-2.4, 2.4, -2.4, 2.4), 100)

    def no_values(self, *args, **kwargs):
        raise AssertionError("the grid forward built an autograd node")

    monkeypatch.setattr(Value, "__init__", no_values)
    logits = plot.predict_points(model, points)
    assert logits.shape == (10_000, 3)


# ---- the decision boundary and the neurons ----


def test_boundary_png_shows_every_class_region(trained, tmp_path):
    model, splits = trained
    path = tmp_path / "boundary.png"
    plot.plot_boundary(model, splits, path, "seed")
    with Image.open(path) as im:
        assert im.size == (888, 672)
        rgb = np.asarray(im.convert("RGB"), dtype=float) / 255
    assert spread(path) > 20
    from matplotlib.colors import to_rgb

    for color in plot.class_colors(3):  # the shade of a confident class region
        tint = 1.0 - 0.5 * (1.0 - np.array(to_rgb(color)))
        share = (np.abs(rgb - tint).max(axis=-1) < 0.03).mean()
        assert share > 0.08, (color, share)


def test_boundary_title_reports_accuracy(trained):
    model, splits = trained
    assert plot.accuracy(model, splits["train"]) == 1.0
    untrained, _ = chapter_setup()
    assert plot.accuracy(untrained, splits["train"]) < 0.9


@pytest.mark.parametrize(("hidden", "activation", "panels", "size"), [
    ((16,), "tanh", 16, (972, 960)),
    ((16, 16), "relu", 16, (972, 960)),
    ((), "tanh", 3, (552, 540)),  # no hidden layer: the output logits, 2x2 tiles
])
def test_neurons_png_has_a_tile_per_neuron(tmp_path, hidden, activation, panels, size):
    model, splits = chapter_setup(hidden, activation)
    points = [p for pts in splits.values() for p in pts]
    path = tmp_path / "neurons.png"
    assert plot.plot_neurons(model, points, path, "t") == panels
    with Image.open(path) as im:
        assert im.size == size
    assert spread(path) > 20


def hue_gap(a, b) -> float:
    """Degrees between the hues of two colours."""
    import colorsys

    from matplotlib.colors import to_rgb

    d = abs(colorsys.rgb_to_hsv(*to_rgb(a))[0] - colorsys.rgb_to_hsv(*to_rgb(b))[0]) * 360
    return min(d, 360 - d)


@pytest.mark.parametrize("diverging", [True, False])
def test_neuron_colours_are_no_class_colour(diverging):
    """The tiles' shades (grey, white, purple) never look like a class, so points stay visible."""
    import colorsys

    cmap = plot.neuron_cmap(diverging)
    for t in np.linspace(0, 1, 33):
        rgb = cmap(t)[:3]
        if colorsys.rgb_to_hsv(*rgb)[1] < 0.12:  # grey or white: no hue
            continue
        for c in plot.class_colors(4):  # the playground's datasets have at most 3 classes
            assert hue_gap(rgb, c) > 40, (t, rgb, c)


def test_neurons_png_names_the_class_colours(monkeypatch, tmp_path):
    from matplotlib.figure import Figure

    figures = []
    save = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: (figures.append(self),
                                                                   save(self, *a, **k)))
    model, splits = chapter_setup((4,))
    plot.plot_neurons(model, [p for pts in splits.values() for p in pts], tmp_path / "n.png")
    (legend,) = figures[0].legends
    assert [t.get_text() for t in legend.get_texts()] == ["class 0", "class 1", "class 2"]
    faces = [h.get_markerfacecolor() for h in legend.legend_handles]
    assert faces == plot.class_colors(3)


# ---- training as an animation ----


def test_frame_labels_follow_the_logs_step_numbering(chapter_log_path):
    """The log's last line is step 99; the GIF's last frame (the trained model) says so."""
    last_line = chapter_log_path.read_text().strip().splitlines()[-1]
    last_logged = int(last_line.split(",")[0].split()[1])
    assert last_logged == 99
    assert animate.frame_label(0, 100) == "step 0 of 0–99"
    assert animate.frame_label(98, 100) == "step 98 of 0–99"
    assert animate.frame_label(100, 100) == f"after step {last_logged} of 0–99"


def test_snapshots_every_k_steps_and_the_last():
    model, _ = chapter_setup((2,))
    snaps = Snapshots(model, 3)
    for step in range(10):
        snaps(step, History())
    snaps.finish(10)
    assert [s for s, _ in snaps.frames] == [0, 3, 6, 9, 10]
    assert frame_every(100) == 2 and frame_every(7) == 1 and frame_every(1000) == 20


@pytest.fixture(scope="module")
def animated_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("anim") / "run"
    code = cli.main(["train", "--animate", "--quiet", "--out", str(out)])
    return out, code


def test_train_animate_writes_a_gif_of_the_run(animated_run):
    """A GIF of the run, one frame per 2 steps (how long the chapter's run with --animate takes is
    measured by `python benchmarks/timings.py`)."""
    out, code = animated_run
    assert code == 0
    with Image.open(out / "training.gif") as gif:
        assert gif.format == "GIF" and gif.size == (900, 414)
        assert gif.n_frames == 51  # before training, then every 2 steps
        gif.seek(0)
        first = np.asarray(gif.convert("RGB"), dtype=float)
        gif.seek(gif.n_frames - 1)
        last = np.asarray(gif.convert("RGB"), dtype=float)
    assert first.std() > 20 and last.std() > 20  # not blank
    assert np.abs(first - last).mean() > 2  # the boundary and the curves moved


def test_default_train_writes_boundary_and_neurons(animated_run, tmp_path):
    out, _ = animated_run
    for name in ("loss.png", "boundary.png", "neurons.png"):
        assert spread(out / name) > 20
    assert cli.main(["train", "--steps", "2", "--no-plot", "--quiet",
                     "--out", str(tmp_path / "n")]) == 0
    assert not list((tmp_path / "n").glob("*.png"))


def test_pictures_need_two_features(tmp_path, capsys):
    path = tmp_path / "three.csv"
    path.write_text("".join(f"{i % 7},{i % 5},{i % 3},{i % 2}\n" for i in range(40)))
    assert cli.main(["train", "--dataset", str(path), "--steps", "2", "--quiet",
                     "--out", str(tmp_path / "ok")]) == 0
    assert (tmp_path / "ok" / "loss.png").exists()
    assert not (tmp_path / "ok" / "boundary.png").exists()  # no plane to draw it on
    assert cli.main(["train", "--dataset", str(path), "--animate",
                     "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "two input features" in err
    assert not (tmp_path / "r").exists()


def test_drawing_the_gif_says_so_on_stderr(tmp_path, capsys):
    """Not a terminal: one line before the frames are drawn (the loss lines stay on stdout)."""
    assert cli.main(["train", "--animate", "--steps", "4", "--out", str(tmp_path / "r")]) == 0
    out, err = capsys.readouterr()
    assert err.count("drawing training.gif") == 1 and "drawing" not in out
    assert err.index("drawing training.gif (5 frames) ...") < err.index("wrote ")
    assert cli.main(["train", "--animate", "--steps", "4", "--quiet",
                     "--out", str(tmp_path / "q")]) == 0
    assert "drawing" not in capsys.readouterr().err


def test_drawing_the_gif_on_a_terminal_shows_a_bar(monkeypatch):
    import io

    from micrograd.cli.train import DrawingProgress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    progress = DrawingProgress(quiet=False)
    for i in range(6):
        progress(i, 5)
    progress.close()
    shown = term.getvalue()
    assert "drawing training.gif" in shown and "0/5" in shown and "frame/s" in shown
    assert "..." not in shown  # the bar, not the line
    # its last drawing says all frames are done, though the frames came faster than tqdm redraws
    # (a console that keeps what a terminal erases ends on it, not on "4/5")
    drawings = [d for d in shown.split("\r") if d.strip()]  # each redraw starts with \r
    assert "5/5" in drawings[-1], drawings


def test_a_bar_still_within_its_delay_is_never_drawn():
    """Training's bar waits a second before it shows: a shorter run leaves no trace."""
    import io

    from tqdm import tqdm

    from micrograd.cli.train import close_bar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    bar = tqdm(total=20, file=term, delay=3600.0, leave=False)
    for _ in range(20):
        bar.update()
    close_bar(bar)
    assert term.getvalue() == ""


@pytest.mark.parametrize(("args", "message"), [
    (["--frame-every", "5"], "add --animate"),
    (["--animate", "--steps", "1000", "--frame-every", "1"], "--frame-every 6 or more"),
    (["--animate", "--frame-every", "0"], "--frame-every"),
])
def test_animation_mistakes_give_one_line(args, message, tmp_path, capsys):
    assert cli.main(["train", *args, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "r").exists()
