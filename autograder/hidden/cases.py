"""Test inputs shared by the hidden tests (grading) and the project's tests of the reference.

Both suites draw their random inputs with these generators and loop over these case lists,
so the networks that grade a student are the ones whose reference gradients the project
checks against central differences and PyTorch. Fixed data of a chapter (its worked network)
is not here: it lives in the solution notebook's locked setup cell (e.g. `reference.CH4`).

Every generator takes a numpy Generator first and draws from it in a fixed order, so a
seeded generator gives the same inputs at every run.
"""
import numpy as np

# ---------------------------------------------------------------- chapter 2: logistic regression


def logistic_example(rng, n):
    """Weights w (n,), one example x (n,) and a bias b (float) with a moderate logit z = w.x + b
    (|z| of a few units)."""
    w = rng.normal(size=n) / np.sqrt(n)
    x = rng.normal(size=n)
    b = float(rng.normal(scale=0.5))
    return w, x, b


# ---------------------------------------------------------------- chapter 3: the MLP

MLP2_SHAPES = [(4, 2, 3), (4, 2, 1), (4, 2, 7), (3, 5, 7), (1, 1, 2), (6, 3, 4)]  # (D, H, N)

DEEP_CASES = [  # (layer widths n_0..n_L, activations, batch size N)
    ([4, 1], ["identity"], 3),
    ([3, 2], ["sigmoid"], 1),
    ([4, 2, 1], ["sigmoid", "identity"], 3),
    ([5, 4, 2], ["relu", "sigmoid"], 7),
    ([2, 6, 3, 1], ["tanh", "relu", "identity"], 7),
    ([3, 4, 4, 3, 2], ["sigmoid", "tanh", "relu", "tanh"], 5),
    ([1, 3, 2, 2, 1], ["relu", "relu", "sigmoid", "sigmoid"], 1),
]


def mlp2_inputs(rng, D, H, N, scale=1.0):
    """X (D, N), W1 (H, D) times `scale`, b1 (H, 1), w2 (1, H), b2 float, y (1, N)."""
    return (rng.normal(size=(D, N)), scale * rng.normal(size=(H, D)),
            rng.normal(size=(H, 1)), rng.normal(size=(1, H)), float(rng.normal()),
            rng.normal(size=(1, N)))


def deep_inputs(rng, widths, N):
    """X (n_0, N), Ws[l-1] (n_l, n_{l-1}) scaled by 1/sqrt(n_{l-1}), bs[l-1] (n_l, 1)."""
    X = rng.normal(size=(widths[0], N))
    Ws = [rng.normal(size=(widths[l], widths[l - 1])) / np.sqrt(widths[l - 1])
          for l in range(1, len(widths))]
    bs = [0.5 * rng.normal(size=(n, 1)) for n in widths[1:]]
    return X, Ws, bs


def describe_deep(widths, acts, N):
    """'3-layer network (widths 2-6-3-1; tanh, relu, identity), batch of 7'."""
    return "%d-layer network (widths %s; %s), batch of %d" % (
        len(acts), "-".join(map(str, widths)), ", ".join(acts), N)


# ---------------------------------------------------------------- chapter 4: the numeric network

SIZES = ((2, 3, 2), (1, 4, 3), (5, 2, 4), (3, 6, 5))      # (D, H, C)


def network(rng, D, H, C, target):
    """A random network of sizes D, H, C (standard-normal weights, biases and input) with a
    one-hot target of class `target`: a dict with the keys x, W1, b1, W2, b2, y."""
    return {"x": rng.normal(size=D), "W1": rng.normal(size=(H, D)), "b1": rng.normal(size=H),
            "W2": rng.normal(size=(C, H)), "b2": rng.normal(size=C), "y": np.eye(C)[target]}


def large_logit_networks(rng):
    """Three 3-4-3 networks with huge logits, as (name, network) pairs.

    "near 1000": every logit raised by 1000 (exp overflows unless the maximum is subtracted);
    "far apart": the first logit raised by 900 and the target is that class, so the other
    classes get o = 0 exactly;
    "far apart, target far below": the same logits with the target in class 1, whose o
    underflows to 0 while its loss, about 900, is finite (log o would be -inf).
    """
    cases = ((1000.0, "near 1000", 0), (900.0, "far apart", 0),
             (900.0, "far apart, target far below", 1))
    for shift, name, target in cases:
        net = network(rng, 3, 4, 3, target)
        net["W1"] *= 0.3
        net["W2"] *= 0.3
        net["b2"][0] += shift
        if name == "near 1000":
            net["b2"][1:] += shift
        yield name, net


# ---------------------------------------------------------------- chapter 5
def integer_batch(rng, N=6, D=3, C=4):
    """W (D, C), X (N, D) of small integers and labels y (N,): the scores X W are integers,
    with ties and margins of exactly 0 (redrawn until both occur)."""
    while True:
        W = rng.integers(-2, 3, size=(D, C)).astype(np.float64)
        X = rng.integers(-2, 3, size=(N, D)).astype(np.float64)
        y = rng.integers(0, C, size=N)
        s = X @ W
        diff = s - s[np.arange(N), y][:, None]
        diff[np.arange(N), y] = 5.0
        if np.any(diff == -1.0) and np.any(diff == 0.0):
            return W, X, y
