"""Time chapter 7's naive layers (loops) against its fast ones (pure numpy), in one run.

    python scripts/bench_conv.py [--naive-repeat 2] [--fast-repeat 20]

Shapes: cs231n's benchmark for the convolution, x (100, 3, 31, 31), w (25, 3, 3, 3),
stride 2, pad 1 (where cs231n's compiled Cython layers are about 100x faster than the loops
forward and 500x backward), and a 2x2 max pool with stride 2 on x (100, 3, 32, 32). Each
time is the best of several calls. The layers are the reference ones, loaded from
solutions/ch07_cnn/ch07_cnn.ipynb. BLAS runs on one thread unless OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS or MKL_NUM_THREADS says otherwise: the loops use one core, so the fast
layers get one too. The last line reads
``conv: forward <r>x backward <r>x; pool: forward <r>x backward <r>x`` (naive time over
fast time).
"""
import argparse
import os
import sys
import time
from pathlib import Path

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402  (after the thread settings)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from autograder.grading.reference import load_reference  # noqa: E402


def best_time(function, args, repeat):
    """(best time of one call over ``repeat`` calls in seconds, the last result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-repeat", type=int, default=2)
    parser.add_argument("--fast-repeat", type=int, default=20)
    args = parser.parse_args(argv)
    ref = load_reference("ch07_cnn")
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(100, 3, 31, 31)), rng.normal(size=(25, 3, 3, 3)), rng.normal(size=25)
    xp = rng.normal(size=(100, 3, 32, 32))
    cases = (
        ("conv", ref.conv_forward_naive, ref.conv_backward_naive, ref.conv_forward_fast,
         ref.conv_backward_fast, (x, w, b, {"stride": 2, "pad": 1}),
         "x (100, 3, 31, 31), w (25, 3, 3, 3), stride 2, pad 1"),
        ("pool", ref.max_pool_forward_naive, ref.max_pool_backward_naive,
         ref.max_pool_forward_fast, ref.max_pool_backward_fast,
         (xp, {"pool_height": 2, "pool_width": 2, "stride": 2}),
         "x (100, 3, 32, 32), 2x2 windows, stride 2"),
    )
    print("threads: OPENBLAS_NUM_THREADS=%s; best of %d naive and %d fast calls"
          % (os.environ["OPENBLAS_NUM_THREADS"], args.naive_repeat, args.fast_repeat))
    ratios = {}
    for name, fwd_naive, bwd_naive, fwd_fast, bwd_fast, inputs, shape in cases:
        t_fn, (out_n, cache_n) = best_time(fwd_naive, inputs, args.naive_repeat)
        t_ff, (out_f, cache_f) = best_time(fwd_fast, inputs, args.fast_repeat)
        dout = rng.normal(size=out_n.shape)
        t_bn, grads_n = best_time(bwd_naive, (dout, cache_n), args.naive_repeat)
        t_bf, grads_f = best_time(bwd_fast, (dout, cache_f), args.fast_repeat)
        grads_n = grads_n if isinstance(grads_n, tuple) else (grads_n,)
        grads_f = grads_f if isinstance(grads_f, tuple) else (grads_f,)
        diff = max([float(np.max(np.abs(out_n - out_f)))]
                   + [float(np.max(np.abs(a - c))) for a, c in zip(grads_n, grads_f)])
        print("%s, %s: forward naive %.3f s, fast %.2f ms; backward naive %.3f s, fast %.2f ms; "
              "largest difference %.1e" % (name, shape, t_fn, 1e3 * t_ff, t_bn, 1e3 * t_bf, diff))
        if diff > 1e-8:
            raise SystemExit("%s: the naive and fast layers disagree" % name)
        ratios[name] = (t_fn / t_ff, t_bn / t_bf)
    print("conv: forward %.0fx backward %.0fx; pool: forward %.0fx backward %.0fx"
          % (ratios["conv"] + ratios["pool"]))


if __name__ == "__main__":
    main()
