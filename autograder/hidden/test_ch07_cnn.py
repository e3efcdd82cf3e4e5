"""Hidden tests of chapter 7 (convolution and max pooling), with cs231n's API.

``conv_forward_naive(x, w, b, conv_param) -> (out, cache)`` with x (N, C, H, W), w
(F, C, HH, WW), b (F,), ``conv_param = {"stride", "pad"}`` (a cross-correlation, zero padding
on every side); ``conv_backward_naive(dout, cache) -> (dx, dw, db)``;
``max_pool_forward_naive(x, pool_param) -> (out, cache)`` with ``pool_height``,
``pool_width``, ``stride``; ``max_pool_backward_naive(dout, cache) -> dx``, a tie's gradient
to the first maximum of its window (row-major, as ``np.argmax``); the ``_fast`` versions of
all four, same interface. A stride that does not divide ``H + 2 pad - HH`` (or
``H - pool_height``) raises a ValueError. The cache is the student's own: every backward
test chains the student's forward into the student's backward and compares both with the
reference. Only this chapter's eight functions are graded (not cnn_loss, which runs through
chapter 5's layers). Inputs of the naive functions are small: a grading call has 10 s.
"""
import numpy as np

from autograder.grading.testkit import points
from autograder.toolkit.checks import CheckFailure, check_close, fix_first, unpack

# (N, C, H, W, F, HH, WW, stride, pad): one image, one channel, padding > 0, stride > 1,
# a stride larger than the filter, a 1 x 1 filter, a padding larger than the filter's half
CONV_CASES = (
    (2, 3, 5, 5, 2, 3, 3, 1, 1),
    (1, 1, 6, 6, 1, 2, 2, 2, 0),
    (2, 2, 7, 5, 3, 3, 3, 2, 1),
    (3, 1, 8, 7, 2, 2, 4, 3, 0),
    (1, 2, 9, 9, 2, 3, 3, 4, 1),
    (2, 3, 4, 4, 4, 1, 1, 1, 0),
    (1, 2, 5, 5, 2, 3, 3, 1, 2),
)
# (N, C, H, W, pool_height, pool_width, stride): overlapping windows, one image, one channel
POOL_CASES = (
    (2, 3, 4, 6, 2, 2, 2),
    (1, 1, 6, 6, 2, 2, 2),
    (2, 2, 5, 4, 3, 2, 1),
    (1, 2, 7, 9, 3, 3, 2),
    (3, 1, 6, 6, 3, 3, 3),
    (2, 2, 8, 6, 4, 2, 2),
)
FLIPPED = ("the kernel is flipped (a true convolution); the layer is a cross-correlation: "
           "w[f, c, k, l] multiplies xpad[n, c, s*i + k, s*j + l]")
PAD_BEFORE = "padding on one side only: 2p zeros before the image, none after"
PAD_AFTER = "padding on one side only: 2p zeros after the image, none before"
STRIDE_IGNORED = "the stride is ignored: window (i, j) starts at row s*i and column s*j"
DB_ONE_IMAGE = "db holds the first image's sum only: sum dout over the batch too, axes (0, 2, 3)"
DB_NO_POSITIONS = "db is not summed over the positions (i, j): sum dout over axes (0, 2, 3)"
DW_ONE_IMAGE = "dw holds the first image's contribution only: add every image's"
DW_FLIPPED = "dw is flipped: dw[f, c, k, l] gathers dout[n, f, i, j] * xpad[n, c, s*i+k, s*j+l]"
DX_FLIPPED = "dx uses the flipped kernel"
DX_PADDED = "dx still holds the padding: cut the p rows and columns off each side"
ALL_MAXIMA = ("the gradient went to every maximum of a window with a tie; send it to the first "
              "one only (np.argmax)")
LAST_MAXIMUM = "a tie's gradient went to the last maximum of its window; send it to the first"
EVERY = "the gradient went to every element of the window; only the maximum gets it"
AVERAGE = "the gradient was shared out over the window (average pooling)"
OVERWRITE = ("dx[...] = dout where windows overlap: an element that is the maximum of two "
             "windows gets both gradients; add them (+=)")


# ---------------------------------------------------------------- inputs

def conv_inputs(rng, case):
    N, C, H, W, F, HH, WW, stride, pad = case
    return (rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, HH, WW)), rng.normal(size=F),
            {"stride": stride, "pad": pad})


def pool_inputs(rng, case, ties):
    """Random x, or small integers (many ties, whole windows of one value)."""
    N, C, H, W, HH, WW, stride = case
    x = (rng.integers(0, 3, size=(N, C, H, W)).astype(np.float64) if ties
         else rng.normal(size=(N, C, H, W)))
    return x, {"pool_height": HH, "pool_width": WW, "stride": stride}


def describe_conv(case):
    N, C, H, W, F, HH, WW, stride, pad = case
    return "x (%d, %d, %d, %d), w (%d, %d, %d, %d), stride %d, pad %d" % (
        N, C, H, W, F, C, HH, WW, stride, pad)


def describe_pool(case, ties):
    N, C, H, W, HH, WW, stride = case
    return "x (%d, %d, %d, %d), %d x %d windows, stride %d%s" % (
        N, C, H, W, HH, WW, stride, ", with ties" if ties else "")


# ---------------------------------------------------------------- classic mistakes

def conv_forward_mistakes(reference, x, w, b, conv_param):
    """Wrong outputs of the convolution, computed with the reference on changed inputs."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    forward = reference.conv_forward_naive
    wrong = [(FLIPPED, forward(x, w[:, :, ::-1, ::-1].copy(), b, conv_param)[0])]
    if pad:
        for message, widths in ((PAD_BEFORE, (2 * pad, 0)), (PAD_AFTER, (0, 2 * pad))):
            xp = np.pad(x, ((0, 0), (0, 0), widths, widths))
            wrong.append((message, forward(xp, w, b, {"stride": stride, "pad": 0})[0]))
    if stride > 1:
        wrong.append((STRIDE_IGNORED, forward(x, w, b, {"stride": 1, "pad": pad})[0]))
    return wrong


def pool_backward_mistakes(x, pool_param, dout):
    """Wrong gradients of max pooling: every maximum, the last one, every element, the mean,
    and ``=`` instead of ``+=`` where windows overlap."""
    HH, WW, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, Ho, Wo = dout.shape
    all_max, last, every, overwrite = (np.zeros_like(x) for _ in range(4))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    rows, cols = slice(i * s, i * s + HH), slice(j * s, j * s + WW)
                    window = x[n, c, rows, cols]
                    g = dout[n, c, i, j]
                    all_max[n, c, rows, cols] += g * (window == window.max())
                    every[n, c, rows, cols] += g
                    flat = np.flatnonzero(window == window.max())
                    k, l = np.unravel_index(flat[-1], window.shape)
                    last[n, c, i * s + k, j * s + l] += g
                    k, l = np.unravel_index(flat[0], window.shape)
                    overwrite[n, c, i * s + k, j * s + l] = g
    return [(ALL_MAXIMA, all_max), (LAST_MAXIMUM, last), (EVERY, every),
            (AVERAGE, every / (HH * WW)), (OVERWRITE, overwrite)]


# ---------------------------------------------------------------- the convolution

def conv_forward_test(student, reference, rng, kind, cases):
    for case in cases:
        x, w, b, conv_param = conv_inputs(rng, case)
        out = unpack("conv_forward_" + kind, getattr(student, "conv_forward_" + kind)(
            x, w, b, dict(conv_param)), 2, ("out", "cache"))[0]
        expected = reference.conv_forward_naive(x, w, b, conv_param)[0]
        check_close("out of conv_forward_%s, %s" % (kind, describe_conv(case)), out, expected,
                    mistakes=conv_forward_mistakes(reference, x, w, b, conv_param))


def conv_backward_test(student, reference, rng, kind, cases):
    forward = getattr(student, "conv_forward_" + kind)
    backward = getattr(student, "conv_backward_" + kind)
    for case in cases:
        x, w, b, conv_param = conv_inputs(rng, case)
        out, cache = unpack("conv_forward_" + kind, forward(x, w, b, dict(conv_param)), 2,
                            ("out", "cache"))
        expected_out, ref_cache = reference.conv_forward_naive(x, w, b, conv_param)
        dout = rng.normal(size=expected_out.shape)
        where = describe_conv(case)

        def forward_right(out=out, expected_out=expected_out, where=where):
            check_close("out of conv_forward_%s, %s" % (kind, where), out, expected_out)

        with fix_first("conv_forward_" + kind, forward_right):
            grads = unpack("conv_backward_" + kind, backward(dout, cache), 3, ("dx", "dw", "db"))
            dx, dw, db = reference.conv_backward_naive(dout, ref_cache)
            pad = conv_param["pad"]
            _, flipped_cache = reference.conv_forward_naive(x, w[:, :, ::-1, ::-1].copy(), b,
                                                            conv_param)
            xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            dxpad = reference.conv_backward_naive(
                dout, reference.conv_forward_naive(xpad, w, b, {"stride": conv_param["stride"],
                                                                "pad": 0})[1])[0]
            first = reference.conv_backward_naive(
                dout[:1], reference.conv_forward_naive(x[:1], w, b, conv_param)[1])[1]
            mistakes = {
                "dx": [(DX_FLIPPED, reference.conv_backward_naive(dout, flipped_cache)[0]),
                       (DX_PADDED, dxpad)],
                "dw": [(DW_FLIPPED, dw[:, :, ::-1, ::-1]), (DW_ONE_IMAGE, first)],
                "db": [(DB_ONE_IMAGE, dout[0].sum(axis=(1, 2))),
                       (DB_NO_POSITIONS, dout.sum(axis=0))],
            }
            for name, got, expected in zip(("dx", "dw", "db"), grads, (dx, dw, db)):
                check_close("%s of conv_backward_%s, %s" % (name, kind, where), got, expected,
                            mistakes=mistakes[name])


def stride_error_test(call, what, shapes):
    for description, args in shapes:
        try:
            call(*args)
        except ValueError:          # only when called directly, without the grader's proxy
            continue
        except CheckFailure as failure:
            if str(failure).find("ValueError") >= 0:
                continue
            raise CheckFailure("%s (%s) should raise a ValueError; it raised another error: "
                               "%s" % (what, description, failure)) from None
        raise CheckFailure("%s accepted %s, where the stride does not divide the distance the "
                           "window travels: raise a ValueError (as cs231n asserts)"
                           % (what, description))


def conv_error_cases():
    return [("a 6 x 6 image, a 3 x 3 filter, stride 2, no pad",
             (np.zeros((1, 1, 6, 6)), np.zeros((1, 1, 3, 3)), np.zeros(1),
              {"stride": 2, "pad": 0})),
            ("a 7 x 8 image, a 3 x 3 filter, stride 2, pad 1 (only W does not fit)",
             (np.ones((2, 1, 7, 8)), np.ones((1, 1, 3, 3)), np.zeros(1),
              {"stride": 2, "pad": 1}))]


def pool_error_cases():
    return [("2 x 2 windows with stride 2 on a 5 x 5 image",
             (np.zeros((1, 1, 5, 5)), {"pool_height": 2, "pool_width": 2, "stride": 2})),
            ("3 x 2 windows with stride 2 on an 7 x 5 image (only W does not fit)",
             (np.ones((1, 2, 7, 5)), {"pool_height": 3, "pool_width": 2, "stride": 2}))]


# ---------------------------------------------------------------- max pooling

def pool_forward_test(student, reference, rng, kind, cases):
    for case in cases:
        for ties in (False, True):
            x, pool_param = pool_inputs(rng, case, ties)
            out = unpack("max_pool_forward_" + kind, getattr(student, "max_pool_forward_" + kind)(
                x, dict(pool_param)), 2, ("out", "cache"))[0]
            expected = reference.max_pool_forward_naive(x, pool_param)[0]
            check_close("out of max_pool_forward_%s, %s" % (kind, describe_pool(case, ties)),
                        out, expected)


def pool_backward_test(student, reference, rng, kind, cases):
    forward = getattr(student, "max_pool_forward_" + kind)
    backward = getattr(student, "max_pool_backward_" + kind)
    for case in cases:
        for ties in (False, True):
            x, pool_param = pool_inputs(rng, case, ties)
            out, cache = unpack("max_pool_forward_" + kind, forward(x, dict(pool_param)), 2,
                                ("out", "cache"))
            expected_out, ref_cache = reference.max_pool_forward_naive(x, pool_param)
            dout = rng.normal(size=expected_out.shape)
            where = describe_pool(case, ties)

            def forward_right(out=out, expected_out=expected_out, where=where):
                check_close("out of max_pool_forward_%s, %s" % (kind, where), out, expected_out)

            with fix_first("max_pool_forward_" + kind, forward_right):
                check_close("dx of max_pool_backward_%s, %s" % (kind, where),
                            backward(dout, cache),
                            reference.max_pool_backward_naive(dout, ref_cache),
                            mistakes=pool_backward_mistakes(x, pool_param, dout))


# ---------------------------------------------------------------- the tests

@points(3)
def test_conv_forward_naive(student, reference, rng):
    """conv_forward_naive: cross-correlation, padding, strides, one image and one channel"""
    conv_forward_test(student, reference, rng, "naive", CONV_CASES)


@points(3)
def test_conv_backward_naive(student, reference, rng):
    """conv_backward_naive on the cache of your conv_forward_naive: dx, dw, db"""
    conv_backward_test(student, reference, rng, "naive", CONV_CASES)


@points(1)
def test_conv_forward_naive_stride_error(student, reference, rng):
    """conv_forward_naive raises a ValueError when the stride does not fit"""
    stride_error_test(student.conv_forward_naive, "conv_forward_naive", conv_error_cases())


@points(2)
def test_max_pool_forward_naive(student, reference, rng):
    """max_pool_forward_naive: several window sizes and strides, ties, overlapping windows"""
    pool_forward_test(student, reference, rng, "naive", POOL_CASES)


@points(3)
def test_max_pool_backward_naive(student, reference, rng):
    """max_pool_backward_naive on the cache of your forward: to the first maximum of each window"""
    pool_backward_test(student, reference, rng, "naive", POOL_CASES)


@points(1)
def test_max_pool_forward_naive_stride_error(student, reference, rng):
    """max_pool_forward_naive raises a ValueError when the stride does not fit"""
    stride_error_test(student.max_pool_forward_naive, "max_pool_forward_naive",
                      pool_error_cases())


@points(2)
def test_conv_forward_fast(student, reference, rng):
    """conv_forward_fast: the same results as the loops"""
    conv_forward_test(student, reference, rng, "fast", CONV_CASES)


@points(2)
def test_conv_backward_fast(student, reference, rng):
    """conv_backward_fast on the cache of your conv_forward_fast: dx, dw, db"""
    conv_backward_test(student, reference, rng, "fast", CONV_CASES)


@points(1)
def test_conv_forward_fast_stride_error(student, reference, rng):
    """conv_forward_fast raises a ValueError when the stride does not fit"""
    stride_error_test(student.conv_forward_fast, "conv_forward_fast", conv_error_cases())


@points(2)
def test_max_pool_forward_fast(student, reference, rng):
    """max_pool_forward_fast: the same results as the loops, ties included"""
    pool_forward_test(student, reference, rng, "fast", POOL_CASES)


@points(2)
def test_max_pool_backward_fast(student, reference, rng):
    """max_pool_backward_fast on the cache of your forward: to the first maximum of each window"""
    pool_backward_test(student, reference, rng, "fast", POOL_CASES)


@points(1)
def test_max_pool_forward_fast_stride_error(student, reference, rng):
    """max_pool_forward_fast raises a ValueError when the stride does not fit"""
    stride_error_test(student.max_pool_forward_fast, "max_pool_forward_fast", pool_error_cases())


@points(2)
def test_fast_layers_on_a_real_batch(student, reference, rng):
    """the fast conv and max-pool layers chained, forward and backward, on a larger batch"""
    case = (16, 3, 16, 16, 8, 3, 3, 1, 1)
    x, w, b, conv_param = conv_inputs(rng, case)
    out, cache = unpack("conv_forward_fast", student.conv_forward_fast(x, w, b, conv_param), 2,
                        ("out", "cache"))
    expected_out, ref_cache = reference.conv_forward_fast(x, w, b, conv_param)
    check_close("out of conv_forward_fast, %s" % describe_conv(case), out, expected_out)
    dout = rng.normal(size=expected_out.shape)
    grads = unpack("conv_backward_fast", student.conv_backward_fast(dout, cache), 3,
                   ("dx", "dw", "db"))
    for name, got, expected in zip(("dx", "dw", "db"), grads,
                                   reference.conv_backward_fast(dout, ref_cache)):
        check_close("%s of conv_backward_fast, %s" % (name, describe_conv(case)), got, expected)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    pooled, pool_cache = unpack("max_pool_forward_fast",
                                student.max_pool_forward_fast(expected_out, pool_param), 2,
                                ("out", "cache"))
    ref_pooled, ref_pool_cache = reference.max_pool_forward_fast(expected_out, pool_param)
    check_close("out of max_pool_forward_fast, x (16, 8, 16, 16), 2 x 2 windows, stride 2",
                pooled, ref_pooled)
    dpool = rng.normal(size=ref_pooled.shape)
    check_close("dx of max_pool_backward_fast, x (16, 8, 16, 16), 2 x 2 windows, stride 2",
                student.max_pool_backward_fast(dpool, pool_cache),
                reference.max_pool_backward_fast(dpool, ref_pool_cache))


# The notebook"s check cells as nbgrader grade cells, each worth its hidden tests.
GRADE_CELLS = {
    "check_conv_forward_naive": [
        "test_conv_forward_naive",
        "test_conv_forward_naive_stride_error",
    ],
    "check_conv_backward_naive": [
        "test_conv_backward_naive",
    ],
    "check_pool": [
        "test_max_pool_forward_naive",
        "test_max_pool_backward_naive",
        "test_max_pool_forward_naive_stride_error",
    ],
    "check_fast": [
        "test_conv_forward_fast",
        "test_conv_backward_fast",
        "test_conv_forward_fast_stride_error",
        "test_max_pool_forward_fast",
        "test_max_pool_backward_fast",
        "test_max_pool_forward_fast_stride_error",
        "test_fast_layers_on_a_real_batch",
    ],
}
