"""bookkit.latex: the one number formatter of the book's pages."""
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book"))
from bookkit import latex  # noqa: E402

E_NOTATION = re.compile(r"\d[eE][+-]?\d")


@pytest.mark.parametrize("x, kwargs, expected", [
    (0.116088922069, {}, "0.1161"),
    (-0.116088922069, {}, "-0.1161"),
    (6.0, {}, "6"),
    (-1000.0, {"sig": 3}, "-1000"),
    (-0.0, {}, "0"),
    (3.4, {}, "3.4000"),
    (3.4, {"trim": True}, "3.4"),
    (0.5, {"digits": None}, "0.5"),
    (1e-05, {"digits": None}, "10^{-5}"),
    (9.348077867344255e-14, {"sig": 4}, r"9.348 \times 10^{-14}"),
    (9.348077867344255e-14, {"sig": 10}, r"9.348077867 \times 10^{-14}"),
    (30.000000000000092, {"sig": 10}, "30.00000000"),
    (2e-17, {}, r"2.000 \times 10^{-17}"),          # too small for 4 decimals
    (2e-17, {"trim": True}, r"2 \times 10^{-17}"),
    (1.7976931348623157e308, {"sig": 2}, r"1.8 \times 10^{308}"),
    (float("nan"), {}, r"\mathrm{NaN}"),
    (float("inf"), {}, r"\infty"),
    (float("-inf"), {}, r"-\infty"),
    (np.float64(0.25), {"sig": 3}, "0.250"),
])
def test_num(x, kwargs, expected):
    assert latex.num(x, **kwargs) == expected


def test_plain_is_the_same_number_in_text():
    assert latex.plain(-0.1161, 3) == "\N{MINUS SIGN}0.116"
    assert latex.plain(2.1e-17, sig=2) == "2.1×10⁻¹⁷"
    assert latex.plain(1e-5, None) == "10⁻⁵"
    assert latex.plain(float("-inf")) == "\N{MINUS SIGN}∞"


def test_no_number_is_written_in_e_notation():
    """9.348077867e-14 breaks across lines after its hyphen; the helper never writes it."""
    rng = np.random.default_rng(0)
    values = np.concatenate([10.0 ** rng.uniform(-320, 308, 400), -(10.0 ** rng.uniform(-20, 20, 200)),
                             [5e-324, 1e-300, 123456789.123, 1e15 + 0.5, 1e16]])
    for x in values:
        for kwargs in ({}, {"sig": 3}, {"sig": 10}, {"digits": None}, {"digits": 2, "trim": True}):
            text = latex.num(x, **kwargs)
            assert not E_NOTATION.search(text), (x, kwargs, text)
            assert not E_NOTATION.search(latex.plain(x, **kwargs)), (x, kwargs)


def test_sig_keeps_the_value():
    rng = np.random.default_rng(1)
    for x in 10.0 ** rng.uniform(-30, 30, 200):
        text = latex.num(x, sig=6)
        mantissa, _, exponent = text.partition(r" \times 10^{")
        value = float(mantissa) * (10.0 ** int(exponent.rstrip("}")) if exponent else 1.0)
        assert math.isclose(value, x, rel_tol=1e-5), (x, text)


def test_tex_scalars_vectors_matrices():
    assert latex.tex(2.5) == "2.5000"
    assert latex.tex([0.0, 3.0, float("nan")]) == r"(0, 3, \mathrm{NaN})"
    assert latex.tex([6, 3], vector="column") == r"\begin{bmatrix} 6 \\ 3 \end{bmatrix}"
    assert latex.tex([6, 3], vector="row") == r"\begin{bmatrix} 6 & 3 \end{bmatrix}"
    assert latex.tex([[0.3, 0.5], [0.2, 0.7]], trim=True) == \
        r"\begin{bmatrix} 0.3 & 0.5 \\ 0.2 & 0.7 \end{bmatrix}"
    with pytest.raises(ValueError):
        latex.tex(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError):
        latex.tex([1.0], vector="diagonal")


def test_round_up_is_an_upper_bound():
    assert latex.round_up(2.4e-16) == 3e-16
    assert latex.round_up(2e-16) == 2e-16
    assert latex.round_up(0.00123, 2) == 0.0013
    assert latex.round_up(0.0) == 0.0
    rng = np.random.default_rng(2)
    for x in 10.0 ** rng.uniform(-20, 5, 300):
        assert x <= latex.round_up(x) and x <= latex.round_up(x, 3)
    with pytest.raises(ValueError):
        latex.round_up(-1.0)


def test_first_wrong_digit_and_ordinal():
    assert latex.first_wrong_digit(9.348077867344255e-14, 9.357622968839737e-14) == 3
    assert latex.first_wrong_digit(30.001020555434774, 30.000000000000092) == 5
    assert latex.first_wrong_digit(1.0, 1.0) == 17
    assert latex.first_wrong_digit(0.0999, 0.1) == 1
    assert [latex.ordinal(n) for n in (1, 3, 5)] == ["first", "third", "fifth"]


PAGES = sorted((ROOT / "book").glob("*.md"))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_pages_use_the_one_formatter(path):
    """No page writes its own number-to-LaTeX helper, and no glued number is shown in
    e-notation text ({glue:text}`x:.1e`), which breaks across lines."""
    text = path.read_text(encoding="utf-8")
    own = re.findall(r"^def (num|tex|bmat|vec|flat|glue_vec|glue_tex|glue_math|glue_inline)\(",
                     text, re.M)
    assert not own, "%s defines its own number formatting: %s (use bookkit.latex)" % (
        path.name, own)
    assert not re.search(r"\{glue:text\}`[^`]*:[^`]*[eEgG]`", text), \
        "%s shows a glued number with an e/g format; glue it with bookkit.latex.glue_num" % path.name
