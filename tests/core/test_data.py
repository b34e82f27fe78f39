"""Datasets and the chapter's RNG: bit-exact generator, dataset geometry, CSV validation."""

import math
import random

import numpy as np
import pytest

from micrograd import data
from micrograd.data import RNG, DataError, gen_data, load_csv, yinyang_class


def xorshift_star_numpy(seed: int, count: int) -> list[int]:
    """An independent xorshift* in numpy uint64 arithmetic (wrap-around is the C semantics)."""
    state = np.array([seed], dtype=np.uint64)
    out = []
    with np.errstate(over="ignore"):
        for _ in range(count):
            state ^= state >> np.uint64(12)
            state ^= state << np.uint64(25)
            state ^= state >> np.uint64(27)
            product = state * np.uint64(0x2545F4914F6CDD1D)
            out.append(int((product >> np.uint64(32))[0]) & 0xFFFFFFFF)
    return out


@pytest.mark.parametrize("seed", [42, 1, 1337, 2**64 - 1, 0xDEADBEEF])
def test_rng_matches_independent_xorshift_star(seed):
    rng = RNG(seed)
    assert [rng.random_u32() for _ in range(2000)] == xorshift_star_numpy(seed, 2000)


def test_rng_floats_are_24_bit_and_in_range():
    rng = RNG(7)
    for _ in range(5000):
        r = rng.random()
        assert 0.0 <= r < 1.0 and (r * 2**24).is_integer()
        u = rng.uniform(-2.0, 2.0)
        assert -2.0 <= u < 2.0


def test_rng_gauss_has_unit_moments():
    rng = RNG(3)
    xs = [rng.gauss() for _ in range(20000)]
    mean = sum(xs) / len(xs)
    var = sum((x - mean) ** 2 for x in xs) / len(xs)
    # 20k samples: standard error of the mean 0.007, of the variance 0.01
    assert abs(mean) < 0.03 and abs(var - 1) < 0.05


@pytest.mark.parametrize("bad", [0, -1, 2**64, 1.5, "42", True])
def test_rng_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="RNG seed"):
        RNG(bad)


def test_gen_data_is_the_chapters_dataset():
    train, val, test = gen_data(RNG(42), n=100)
    assert (len(train), len(val), len(test)) == (80, 10, 10)
    for xy, label in train + val + test:
        x, y = xy
        assert -2 <= x < 2 and -2 <= y < 2
        assert label == (0 if x < 0 else 1 if y < 0 else 2)
    # the points are consecutive draws of the RNG: x then y for each point, in order
    rng = RNG(42)
    first = [rng.uniform(-2.0, 2.0), rng.uniform(-2.0, 2.0)]
    assert train[0][0] == first


def test_generators_are_deterministic_and_accept_any_rng():
    for name, make in data.DATASETS.items():
        a = make(RNG(5), 60)
        assert a == make(RNG(5), 60) == make(5, 60), name
        assert a != make(RNG(6), 60), name
        r1, r2 = random.Random(1), random.Random(1)
        assert make(r1, 30) == make(r2, 30), name


@pytest.mark.parametrize("name", list(data.DATASETS))
def test_every_generator_returns_the_chapters_shape(name):
    train, val, test = data.DATASETS[name](RNG(11), 100)
    assert (len(train), len(val), len(test)) == (80, 10, 10)
    for xy, label in train + val + test:
        assert isinstance(xy, list) and len(xy) == 2 and all(isinstance(v, float) for v in xy)
        assert isinstance(label, int)
    k = max(label for _, label in train) + 1
    for part in (train, val, test):  # classes interleave, so every split sees every class
        assert {label for _, label in part} == set(range(k))


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (0.75, 0.5, 2),  # centre of the right dot
        (0.25, 0.5, 2),  # centre of the left dot
        (0.5, 0.9, 0),  # top half, far from the right dot: yin
        (0.5, 0.1, 1),  # bottom half, far from the left dot: yang
        (0.25, 0.65, 0),  # the yin ring around the left dot (0.1 < d_l <= 0.25)
        (0.75, 0.65, 1),  # the yang ring around the right dot
    ],
)
def test_yinyang_regions(x, y, expected):
    assert yinyang_class(x, y, 0.1, 0.5) == expected


def test_make_yinyang_points_lie_in_the_disc_with_wanted_classes():
    train, val, test = data.make_yinyang(RNG(42), 300)
    points = train + val + test
    assert [label for _, label in points] == [i % 3 for i in range(300)]
    for (x, y), label in points:
        ux, uy = (x / 2 + 1) * 0.5, (y / 2 + 1) * 0.5  # back to the unscaled [0, 1] square
        assert math.hypot(ux - 0.5, uy - 0.5) <= 0.5 + 1e-12
        assert yinyang_class(ux, uy, 0.1, 0.5) == label


def all_points(splits):
    return [p for part in splits for p in part]


def test_noise_free_shapes_are_exact():
    for (x, y), label in all_points(data.make_circles(RNG(2), 50, noise=0.0)):
        assert math.hypot(x, y) == pytest.approx(1.0 if label == 0 else 0.5, abs=1e-12)
    for (x, y), label in all_points(data.make_moons(RNG(2), 50, noise=0.0)):
        cx, cy = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        assert math.hypot(x - cx, y - cy) == pytest.approx(1.0, abs=1e-12)
        assert (y >= 0) if label == 0 else (y <= 0.5)
    for (x, y), label in all_points(data.make_xor(RNG(2), 50, noise=0.0)):
        assert label == int((x > 0) == (y > 0))
    for (x, y), _ in all_points(data.make_spiral(RNG(2), 60, noise=0.0)):
        assert math.hypot(x, y) <= 1.0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: gen_data(RNG(1), n=5), "n must be"),
        (lambda: data.make_moons(RNG(1), 100, noise=-1), "noise"),
        (lambda: data.make_circles(RNG(1), 100, factor=1.5), "factor"),
        (lambda: data.make_spiral(RNG(1), 100, classes=1), "classes"),
        (lambda: data.make_yinyang(RNG(1), 100, r_small=0.3), "r_small"),
        (lambda: gen_data("seed"), "rng must be"),
    ],
)
def test_generator_arguments_are_checked(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# ---- load_csv ----


def write(tmp_path, text, name="d.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_load_csv_reads_rows_with_or_without_header(tmp_path):
    rows = "0.5,-1,0\n1e-3,2,1\n-3,4.25,2\n"
    expected = [([0.5, -1.0], 0), ([0.001, 2.0], 1), ([-3.0, 4.25], 2)]
    assert load_csv(write(tmp_path, rows)) == expected
    assert load_csv(write(tmp_path, "x1,x2,label\n" + rows)) == expected
    assert load_csv(write(tmp_path, "\ufeffx1, x2, label\r\n" + rows.replace("\n", "\r\n"))) \
        == expected
    three = load_csv(write(tmp_path, "1,2,3,0\n4,5,6,1\n"))
    assert three == [([1.0, 2.0, 3.0], 0), ([4.0, 5.0, 6.0], 1)]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "no data rows"),
        ("x1,x2,label\n", "no data rows"),
        ("1,2,0\n3,4\n", "line 2: expected 3 columns, got 2"),
        ("1,2,0\n3,4,1,5\n", "line 2: expected 3 columns"),
        ("1,2,0\n3,abc,1\n", "line 2: column 2 is 'abc', not a number"),
        ("1,2,0\nnan,1,1\n", "line 2: column 1 is 'nan'"),
        ("1,2,0\n1,inf,1\n", "line 2: column 2 is 'inf'"),
        ("1,2,0\n1,2,-1\n", "line 2: label '-1'"),
        ("1,2,0\n1,2,1.5\n", "line 2: label '1.5'"),
        ("1,2,0\n1,2,cat\n", "line 2: label 'cat'"),
        ("1,2,0\n1,2,2\n", r"missing \[1\]"),
        ("1,2,0\n3,4,0\n", "at least 2 classes"),
        ("5,0\n6,1\n7\n", "line 3"),
        ("0\n1\n", "at least one feature"),
        (b"\x00\x01\x02binary", "binary"),
        (b"1,2,0\n\xff\xfe,1,1\n", "not UTF-8"),
    ],
)
def test_load_csv_rejects_bad_files_with_the_line(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        load_csv(write(tmp_path, text))


def test_load_csv_rejects_directories_and_huge_files(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="is a directory"):
        load_csv(tmp_path)
    monkeypatch.setattr(data, "MAX_CSV_BYTES", 10)
    with pytest.raises(DataError, match="byte limit"):
        load_csv(write(tmp_path, "1,2,0\n3,4,1\n"))


def test_csv_limits_stop_early_on_a_huge_line_or_too_many_rows(tmp_path):
    """A 48 MB one-line file used to be split into millions of fields (1.4 GB), and 8.7 million
    tiny rows never finished loading: both are refused while reading, line by line."""
    long_line = tmp_path / "long.csv"
    long_line.write_text("1," * 5000 + "0\n")
    with pytest.raises(DataError, match=r"line 1: 10,002 characters; a row holds at most 64"):
        load_csv(long_line)
    many = tmp_path / "many.csv"
    many.write_text("x,y,label\n" + "0.5,1,0\n1.5,2,1\n" * 50_001)
    with pytest.raises(DataError, match=r"more than 100,000 data rows"):
        load_csv(many)
    ok = tmp_path / "ok.csv"
    ok.write_text("x,y,label\r\n" + "0.5,1,0\r\n1.5,2,1\r\n" * 10)  # Windows line ends
    assert len(load_csv(ok)) == 20
