r"""Numbers for the book's pages, written once: LaTeX for the text, plain text for figures.

Every page formats its computed numbers with these functions, so one rule holds everywhere:

- an integer-valued number is written as an integer (``6``, ``-1000``);
- otherwise ``digits`` decimals (``num(0.11608, 4)`` is ``0.1161``), or ``sig`` significant
  digits when ``sig`` is given (``num(9.348e-14, sig=4)`` is ``9.348 \times 10^{-14}``);
- a number too small or too large for fixed decimals is written in scientific notation,
  ``m \times 10^{e}`` (in LaTeX) or ``m×10⁻¹⁴`` (plain text): never ``9.348e-14``, which
  a browser may break across two lines after its hyphen;
- ``trim=True`` drops trailing zeros (``3.4`` rather than ``3.4000``);
- NaN and infinities are written as such (``\mathrm{NaN}``, ``\infty``), and -0 as 0.

Inline maths is never broken across lines by MathJax, so a glued number stays in one piece.

Scalars, vectors and matrices (LaTeX, no ``$`` delimiters)::

    num(x, digits=4, *, sig=None, trim=False)        '0.1161', '-2 \times 10^{-17}'
    tex(a, digits=4, *, sig=None, trim=False, vector="tuple")
        a scalar as num(); a vector as '(a, b)' (vector="tuple"), a column or a row
        bmatrix (vector="column" / "row"); a matrix as a bmatrix
    plain(x, digits=4, *, sig=None, trim=False)      the same number as Unicode text
    round_up(x, sig=1)                               an upper bound with sig digits
    ordinal(n)                                       'first', 'second', ... (n >= 1)
    first_wrong_digit(approx, exact)                 position of the first wrong digit

Glue for the pages (myst_nb), each under ``name``::

    glue_num(name, x, ...)          inline maths: {glue:md}`name:myst`
    glue_tex(name, a, ...)          inline maths: {glue:md}`name:myst`
    glue_inline(name, latex)        inline maths: {glue:md}`name:myst`
    glue_display(name, *latex)      displayed equations: ```{glue:md} name + :format: myst
    glue_math(name, latex)          one displayed equation: ```{glue:math} name (may be labelled)
    glue_markdown(name, text)       any MyST markdown: {glue:md}`name:myst`
"""
import math

import numpy as np

MINUS = "\N{MINUS SIGN}"
_SUPERSCRIPT = str.maketrans("-0123456789", "\N{SUPERSCRIPT MINUS}⁰¹²³⁴⁵⁶⁷⁸⁹")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth",
             "fifteenth", "sixteenth", "seventeenth")
SMALL = 1e-4     # |x| below this (and not 0) is written in scientific notation ...
LARGE = 1e6      # ... and so is a non-integer |x| at or above this
EXACT_INT = 1e15  # integer-valued |x| below this is written as an integer


def _trim(text):
    """Drop trailing zeros after a decimal point, and the point itself if nothing is left."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _parts(x, digits=4, sig=None, trim=False):
    """Split a number into (kind, negative, mantissa, exponent).

    kind is "nan", "inf" or "num"; mantissa a string of digits and at most one point;
    exponent an int (scientific notation) or None. Rules: see the module docstring.
    """
    x = float(x)
    if math.isnan(x):
        return "nan", False, "", None
    if math.isinf(x):
        return "inf", x < 0, "", None
    if x == 0:
        return "num", False, "0", None
    negative, a = x < 0, abs(x)
    if a == round(a) and a < EXACT_INT:
        return "num", negative, "%d" % a, None
    if sig is None and digits is None:            # the shortest text that reads back as x
        text = repr(a)
        if "e" in text:
            mantissa, exponent = text.split("e")
            return "num", negative, _trim(mantissa), int(exponent)
        return "num", negative, _trim(text), None
    if sig is None:
        fixed = "%.*f" % (digits, a)
        if SMALL <= a < LARGE and float(fixed) != 0:
            return "num", negative, _trim(fixed) if trim else fixed, None
        sig = max(digits, 2)                      # too small or too large for decimals
    if sig < 1:
        raise ValueError("sig must be at least 1, got %r" % sig)
    mantissa, exponent = ("%.*e" % (sig - 1, a)).split("e")
    exponent = int(exponent)
    if -4 <= exponent < sig and SMALL <= a < LARGE:   # as %g does: fixed when it fits
        fixed = "%.*f" % (sig - 1 - exponent, a)
        return "num", negative, _trim(fixed) if trim else fixed, None
    return "num", negative, _trim(mantissa) if trim else mantissa, exponent


def num(x, digits=4, *, sig=None, trim=False):
    r"""LaTeX (without ``$``) for one number, e.g. ``-0.1161`` or ``9.348 \times 10^{-14}``.

    x: a number (float, int or numpy scalar). digits: decimals of the fixed notation, or
    None for the shortest text that reads back as x; sig: significant digits instead of
    decimals; trim: drop trailing zeros. Returns a str.
    """
    kind, negative, mantissa, exponent = _parts(x, digits, sig, trim)
    if kind == "nan":
        return r"\mathrm{NaN}"
    if kind == "inf":
        return r"-\infty" if negative else r"\infty"
    body = mantissa if exponent is None else r"%s \times 10^{%d}" % (mantissa, exponent)
    if mantissa == "1" and exponent is not None:
        body = r"10^{%d}" % exponent
    return ("-" if negative else "") + body


def plain(x, digits=4, *, sig=None, trim=False):
    """The same number as num() in Unicode text (true minus, ×10 and a superscript).

    For figure labels and other places without LaTeX. Returns a str.
    """
    kind, negative, mantissa, exponent = _parts(x, digits, sig, trim)
    if kind == "nan":
        return "NaN"
    if kind == "inf":
        return (MINUS if negative else "") + "\N{INFINITY}"
    body = mantissa
    if exponent is not None:
        power = "10" + str(exponent).translate(_SUPERSCRIPT)
        body = power if mantissa == "1" else body + "\N{MULTIPLICATION SIGN}" + power
    return (MINUS if negative else "") + body


def tex(a, digits=4, *, sig=None, trim=False, vector="tuple"):
    r"""LaTeX (without ``$``) for a number, a vector or a matrix.

    a: scalar, 1-D or 2-D array-like. A vector is written as a tuple ``(a, b, c)``
    (vector="tuple"), a column bmatrix (vector="column") or a row bmatrix (vector="row");
    a matrix as a bmatrix. digits, sig, trim: as for num(). Returns a str.
    """
    a = np.asarray(a, dtype=float)
    fmt = {"digits": digits, "sig": sig, "trim": trim}
    if a.ndim == 0:
        return num(a, **fmt)
    if a.ndim == 1:
        if vector == "tuple":
            return r"(%s)" % ", ".join(num(v, **fmt) for v in a)
        if vector not in ("column", "row"):
            raise ValueError("vector must be 'tuple', 'column' or 'row', got %r" % vector)
        a = a.reshape(-1, 1) if vector == "column" else a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError("tex() writes scalars, vectors and matrices, not %d-D arrays" % a.ndim)
    body = r" \\ ".join(" & ".join(num(v, **fmt) for v in row) for row in a)
    return r"\begin{bmatrix} %s \end{bmatrix}" % body


def round_up(x, sig=1):
    """The smallest number with ``sig`` significant digits that is >= x (x >= 0): an upper
    bound to quote, e.g. round_up(2.4e-16) is 3e-16. Returns a float."""
    x = float(x)
    if not x >= 0 or math.isinf(x):
        raise ValueError("round_up needs a finite number >= 0, got %r" % x)
    if x == 0:
        return 0.0
    scale = 10.0 ** (math.floor(math.log10(x)) - sig + 1)
    bound = math.ceil(x / scale) * scale
    return float("%.*e" % (sig - 1, bound))


def ordinal(n):
    """'first', 'second', ... for n = 1, 2, ... (int >= 1); '18th' beyond the list."""
    n = int(n)
    if n < 1:
        raise ValueError("ordinal of %d" % n)
    return _ORDINALS[n - 1] if n <= len(_ORDINALS) else "%dth" % n


def first_wrong_digit(approx, exact):
    """The position (1 = the leading one) of the first significant digit of ``approx``
    that differs from ``exact``'s, both written at the exponent of ``exact``.

    approx, exact: finite non-zero floats. Returns an int, or 17 when they agree to the last
    of float64's digits.
    """
    exact, approx = abs(float(exact)), abs(float(approx))
    scale = 10.0 ** math.floor(math.log10(exact))
    digits_exact = ("%.16f" % (exact / scale)).replace(".", "")
    digits_approx = ("%.16f" % (approx / scale)).replace(".", "")
    if len(digits_approx) != len(digits_exact):        # approx has another leading digit
        return 1
    for position, (p, q) in enumerate(zip(digits_approx, digits_exact), start=1):
        if p != q:
            return position
    return 17


# ------------------------------------------------------------------ glue for the pages
def glue_markdown(name, text):
    """Glue MyST markdown under ``name``, for {glue:md}`name:myst` (or a {glue:md} block)."""
    from IPython.display import Markdown
    from myst_nb import glue
    glue(name, Markdown(text), display=False)


def glue_inline(name, latex):
    """Glue inline maths ``$latex$``, shown on a page with {glue:md}`name:myst`."""
    glue_markdown(name, "$" + latex + "$")


def glue_num(name, x, digits=4, *, sig=None, trim=False):
    """Glue one number as inline maths (see num()), for {glue:md}`name:myst`."""
    glue_inline(name, num(x, digits, sig=sig, trim=trim))


def glue_tex(name, a, digits=4, *, sig=None, trim=False, vector="tuple"):
    """Glue a number, vector or matrix as inline maths (see tex()), for {glue:md}`name:myst`."""
    glue_inline(name, tex(a, digits, sig=sig, trim=trim, vector=vector))


def glue_display(name, *equations):
    """Glue one or more displayed equations (LaTeX strings) as MyST markdown.

    Shown with a ``{glue:md} name`` block with ``:format: myst``.
    """
    glue_markdown(name, "\n\n".join("$$\n" + eq + "\n$$" for eq in equations))


def glue_math(name, latex):
    """Glue one displayed equation, shown with a ``{glue:math} name`` block (which may carry
    a ``:label:``)."""
    from IPython.display import Math
    from myst_nb import glue
    glue(name, Math(latex), display=False)
