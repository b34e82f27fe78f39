"""Deterministic randomness and 2-D classification datasets.

`RNG` is the chapter's xorshift* generator, bit for bit, so its run can be reproduced exactly.
Every generator takes the random source first (an `RNG`, a `random.Random`, or an int seed) and
returns `(train, val, test)`: lists of `([x, y], label)` pairs split 80/10/10 in order. Points of
class i % K are generated at index i, so every split holds every class.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator
from typing import Any

from micrograd.files import read_regular_file
from micrograd.settings import DATASETS as TABLE
from micrograd.settings import SETTING

NOISE = {d.name: d.noise for d in TABLE}  # each generator's default noise

Point = tuple[list[float], int]
Splits = tuple[list[Point], list[Point], list[Point]]

_MASK64 = 0xFFFFFFFFFFFFFFFF
MAX_CSV_BYTES = 50 * 1024 * 1024  # load_csv refuses larger files: this is a scalar engine
MAX_CSV_FEATURES = 64
MAX_CSV_ROWS = SETTING["n"].hi  # as many points as `--n` may generate
MAX_CSV_LINE = 40 * (MAX_CSV_FEATURES + 1)  # characters: 65 numbers with room to spare


class RNG:
    """xorshift* (Marsaglia 2003, Vigna 2014): 64-bit state, 32-bit outputs; the chapter's RNG."""

    def __init__(self, seed: int):
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 < seed <= _MASK64:
            raise ValueError(f"RNG seed must be an integer in 1..2**64-1, got {seed!r}")
        self.state = seed

    def random_u32(self) -> int:
        self.state ^= (self.state >> 12) & _MASK64
        self.state ^= (self.state << 25) & _MASK64
        self.state ^= (self.state >> 27) & _MASK64
        return ((self.state * 0x2545F4914F6CDD1D) >> 32) & 0xFFFFFFFF

    def random(self) -> float:
        """Uniform in [0, 1) with 24 random bits (a float32 value, as the seed)."""
        return (self.random_u32() >> 8) / 16777216.0

    def uniform(self, a: float = 0.0, b: float = 1.0) -> float:
        """Uniform in [a, b)."""
        return a + (b - a) * self.random()

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        """Normal sample by Box-Muller; uses two draws, keeps no spare (state stays one integer)."""
        u1 = 1.0 - self.random()  # in (0, 1], so log is finite
        u2 = self.random()
        return mu + sigma * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def as_rng(rng: Any) -> Any:
    """An int seed becomes `RNG(seed)`; anything with `uniform` and `random` is used as is."""
    if isinstance(rng, int) and not isinstance(rng, bool):
        return RNG(rng)
    if not (hasattr(rng, "uniform") and hasattr(rng, "random")):
        raise TypeError(f"rng must be an RNG, a random.Random or an int seed, got {rng!r}")
    return rng


def split(points: list[Point]) -> Splits:
    """80/10/10 train/val/test, in order, as the chapter cuts them."""
    n = len(points)
    return points[: int(0.8 * n)], points[int(0.8 * n) : int(0.9 * n)], points[int(0.9 * n) :]


def gen_data(rng: Any, n: int = 100) -> Splits:
    """The chapter's dataset: x, y uniform in [-2, 2); class 0 left, 1 bottom right, 2 top right."""
    rng = as_rng(rng)
    _check_n(n)
    pts = []
    for _ in range(n):
        x = rng.uniform(-2.0, 2.0)
        y = rng.uniform(-2.0, 2.0)
        pts.append(([x, y], chapter_label(x, y)))
    return split(pts)


def chapter_label(x: float, y: float) -> int:
    """The class the chapter's data give a point: 0 on the left, 1 bottom right, 2 top right."""
    return 0 if x < 0 else 1 if y < 0 else 2


seed_label = chapter_label  # its name before "seed" came to mean the RNG's seed only


def yinyang_class(x: float, y: float, r_small: float, r_big: float) -> int:
    """Class of a point of the Yin-Yang disc (Kriener et al. 2021): 0 yin, 1 yang, 2 the dots."""
    d_r = math.hypot(x - 1.5 * r_big, y - r_big)
    d_l = math.hypot(x - 0.5 * r_big, y - r_big)
    if d_r < r_small or d_l < r_small:
        return 2
    if d_r <= r_small or r_small < d_l <= r_big / 2 or (y > r_big and d_r > r_big / 2):
        return 0
    return 1


def make_yinyang(rng: Any, n: int = 1000, r_small: float = 0.1, r_big: float = 0.5) -> Splits:
    """The Yin-Yang dataset by rejection sampling; coordinates scaled to [-2, 2]."""
    rng = as_rng(rng)
    _check_n(n)
    if not 0 < r_small < r_big / 2:
        raise ValueError(f"make_yinyang needs 0 < r_small < r_big/2, got {r_small}, {r_big}")
    pts = []
    for i in range(n):
        wanted = i % 3
        while True:
            x = rng.uniform(0, 2 * r_big)
            y = rng.uniform(0, 2 * r_big)
            if math.hypot(x - r_big, y - r_big) > r_big:
                continue
            if yinyang_class(x, y, r_small, r_big) == wanted:
                break
        pts.append(([2 * (x / r_big - 1), 2 * (y / r_big - 1)], wanted))
    return split(pts)


def gen_data_yinyang(
    random: Any, n: int = 1000, r_small: float = 0.1, r_big: float = 0.5
) -> tuple[list[list], list[list], list[list]]:
    """The LLM101n course's name for `make_yinyang`: the same draws and the same points.

    Points come as lists `[[x, y], label]`, the type the course's script builds, so code that
    indexes or edits them in place runs unchanged.
    """
    return tuple(
        [[list(x), label] for x, label in part]
        for part in make_yinyang(random, n, r_small, r_big)
    )


def make_moons(rng: Any, n: int = 100, noise: float = NOISE["moons"]) -> Splits:
    """Two interleaved half circles (as scikit-learn's), with Gaussian noise of std `noise`."""
    rng, noise = as_rng(rng), _check_noise(noise)
    _check_n(n)
    pts = []
    for i in range(n):
        label = i % 2
        t = rng.uniform(0.0, math.pi)
        x, y = (math.cos(t), math.sin(t)) if label == 0 else (1 - math.cos(t), 0.5 - math.sin(t))
        pts.append(([x + noise * rng.gauss(), y + noise * rng.gauss()], label))
    return split(pts)


def make_circles(rng: Any, n: int = 100, noise: float = NOISE["circles"],
                 factor: float = 0.5) -> Splits:
    """A circle of radius 1 (class 0) around one of radius `factor` (class 1), plus noise."""
    rng, noise = as_rng(rng), _check_noise(noise)
    _check_n(n)
    if not 0 < factor < 1:
        raise ValueError(f"make_circles factor must be in (0, 1), got {factor!r}")
    pts = []
    for i in range(n):
        label = i % 2
        r = 1.0 if label == 0 else factor
        t = rng.uniform(0.0, 2 * math.pi)
        pts.append(([r * math.cos(t) + noise * rng.gauss(),
                     r * math.sin(t) + noise * rng.gauss()], label))
    return split(pts)


def make_spiral(rng: Any, n: int = 150, noise: float = NOISE["spiral"], classes: int = 3) -> Splits:
    """`classes` interleaved spiral arms (the CS231n dataset); noise perturbs the angle."""
    rng, noise = as_rng(rng), _check_noise(noise)
    _check_n(n)
    if isinstance(classes, bool) or not isinstance(classes, int) or not 2 <= classes <= 10:
        raise ValueError(f"make_spiral classes must be an integer in 2..10, got {classes!r}")
    pts = []
    for i in range(n):
        label = i % classes
        r = rng.uniform(0.0, 1.0)
        t = label * 2 * math.pi / classes + 4.0 * r + noise * rng.gauss()
        pts.append(([r * math.sin(t), r * math.cos(t)], label))
    return split(pts)


def make_xor(rng: Any, n: int = 100, noise: float = NOISE["xor"]) -> Splits:
    """Points in [-1, 1)²; class 1 where x and y have the same sign; noise jitters positions."""
    rng, noise = as_rng(rng), _check_noise(noise)
    _check_n(n)
    pts = []
    for _ in range(n):
        x, y = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
        label = int((x > 0) == (y > 0))
        pts.append(([x + noise * rng.gauss(), y + noise * rng.gauss()], label))
    return split(pts)


GAUSSIAN_CENTER = 1.0  # class 1 around (c, c), class 0 around (-c, -c)
GAUSSIAN_SPREAD = 0.25  # each blob's standard deviation at noise 0


def make_gaussian(rng: Any, n: int = 100, noise: float = NOISE["gaussian"]) -> Splits:
    """Two round Gaussian blobs, class 1 around (1, 1) and class 0 around (-1, -1), as
    TensorFlow Playground's "Gaussian" places its two classes on opposite diagonals; each
    coordinate's standard deviation is 0.25 + noise, so at noise 0 they are still clouds, and
    noise past about 0.5 makes them overlap."""
    rng, noise = as_rng(rng), _check_noise(noise)
    _check_n(n)
    sigma = GAUSSIAN_SPREAD + noise
    pts = []
    for i in range(n):
        label = i % 2
        c = GAUSSIAN_CENTER if label else -GAUSSIAN_CENTER
        pts.append(([c + sigma * rng.gauss(), c + sigma * rng.gauss()], label))
    return split(pts)


_GENERATORS = {"chapter": gen_data, "yinyang": make_yinyang, "moons": make_moons,
               "circles": make_circles, "spiral": make_spiral, "xor": make_xor,
               "gaussian": make_gaussian}
# the settings' table lists the datasets `micrograd train` generates; each is made by name here
DATASETS = {d.name: _GENERATORS[d.name] for d in TABLE if d.problem == "classification"}


class DataError(ValueError):
    """A data file that cannot be used; the message names the file, the line and the fix."""


def load_csv(path: str | os.PathLike[str]) -> list[Point]:
    """Read `x1,x2,...,label` rows (an optional header first) into `([x1, x2, ...], label)` points.

    Every row needs the same number of columns, finite numbers for features, and an integer label;
    labels must be exactly 0..K-1 with K >= 2. Any violation raises `DataError` with the line.
    """
    name = os.fspath(path)
    text = read_csv_text(name)
    points: list[Point] = []
    for lineno, fields in csv_rows(name, text):
        if len(fields) < 2:
            raise DataError(f"{name} line {lineno}: need at least one feature column and a label")
        if len(fields) - 1 > MAX_CSV_FEATURES:
            raise DataError(f"{name} line {lineno}: {len(fields) - 1} features is over the limit "
                            f"of {MAX_CSV_FEATURES}")
        points.append((parse_features(name, lineno, fields[:-1]),
                       _parse_label(name, lineno, fields[-1])))
    if not points:
        raise DataError(f"{name}: has no data rows; add rows like 0.5,-1.2,0")
    labels = {label for _, label in points}
    k = max(labels) + 1
    missing = sorted(set(range(k)) - labels)
    if missing:
        raise DataError(f"{name}: labels must be 0..{k - 1} with every class present; "
                        f"missing {missing[:5]}")
    if k < 2:
        raise DataError(f"{name}: every row has label 0; a classifier needs at least 2 classes")
    return points


def csv_rows(name: str, text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped fields) of every non-blank row after an optional header row.

    A first row with no number in it is a header; every row must have the first row's number of
    columns, or `DataError` names the line.
    """
    ncols, rows = None, 0
    for lineno, line in enumerate(io.StringIO(text, newline=None), start=1):  # one line at a time
        if len(line) > MAX_CSV_LINE:  # before splitting it: one huge line is not a huge list
            raise DataError(f"{name} line {lineno}: {len(line):,} characters; a row holds at most "
                            f"{MAX_CSV_FEATURES} features and a label")
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        if ncols is None:
            ncols = len(fields)
            if not any(_is_number(f) for f in fields):
                continue  # a header row: names only fix the column count
        if len(fields) != ncols:
            raise DataError(f"{name} line {lineno}: expected {ncols} columns, got {len(fields)}")
        rows += 1
        if rows > MAX_CSV_ROWS:
            raise DataError(f"{name}: more than {MAX_CSV_ROWS:,} data rows; a scalar engine trains "
                            "on at most that many: take a sample")
        yield lineno, fields


def read_csv_text(name: str) -> str:
    """A CSV file's text; folders, FIFOs, files over the limit, binary and non-UTF-8 are refused."""
    raw = read_regular_file(name, MAX_CSV_BYTES, DataError, "a CSV file")
    if b"\0" in raw:
        raise DataError(f"{name}: is a binary file, not CSV text; pass rows like 0.5,-1.2,0")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(
            f"{name}: is not UTF-8 text (byte {e.start}); save it as UTF-8 CSV") from None


def parse_features(name: str, lineno: int, fields: list[str]) -> list[float]:
    out = []
    for col, field in enumerate(fields, start=1):
        try:
            v = float(field)
        except ValueError:
            raise DataError(
                f"{name} line {lineno}: column {col} is {field!r}, not a number") from None
        if not math.isfinite(v):
            raise DataError(f"{name} line {lineno}: column {col} is {field!r}; use finite numbers")
        out.append(v)
    return out


def _parse_label(name: str, lineno: int, field: str) -> int:
    try:
        v = float(field)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v >= 0 and v == int(v)) or abs(v) > 1000:
        raise DataError(f"{name} line {lineno}: label {field!r} is not a class index 0..K-1 "
                        "(K <= 1001)")
    return int(v)


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _check_n(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < SETTING["n"].lo:
        raise ValueError(f"n must be an integer >= {SETTING['n'].lo} (each split needs a "
                         f"point), got {n!r}")


def _check_noise(noise: object) -> float:
    if problem := SETTING["noise"].problem(noise):
        raise ValueError(f"noise {problem}")
    return float(noise)  # type: ignore[arg-type]
