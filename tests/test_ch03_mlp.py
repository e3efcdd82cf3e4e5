"""Chapter 3 (two-layer MLP, any depth, row convention): the reference checked three ways.

The reference gradients (analytic, from the solution notebook) are compared with central
differences (autograder.toolkit.checks.numerical_gradient) and with PyTorch autograd (CPU, float64)
on random inputs of several shapes and on edge cases: a batch of one, saturated sigmoids,
ReLU units at exactly 0. The notebook's public checks and the seed's errata are tested too.
"""
import ast
import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from autograder.grading.reference import ROOT, load_reference
from autograder.hidden.cases import DEEP_CASES, mlp2_inputs
from autograder.hidden.cases import deep_inputs as deep_params
from autograder.sandbox.inside import cells
from autograder.toolkit.checks import numerical_gradient

torch = pytest.importorskip("torch")

NAMES = ("sigmoid", "relu", "tanh", "identity")
TORCH_ACT = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh,
             "identity": lambda z: z}


@pytest.fixture(scope="module")
def ref():
    return load_reference("ch03_mlp")


def close(got, expected, rtol=1e-7, atol=1e-10):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64),
                               np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol)


def t(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64,
                        requires_grad=True)


def torch_mlp2(X, W1, b1, w2, b2, y):
    """Loss and gradients of the seed's network by PyTorch autograd."""
    p = {"W1": t(W1), "b1": t(b1), "w2": t(w2), "b2": t(b2)}
    Z = p["W1"] @ torch.tensor(X) + p["b1"]
    Z.retain_grad()
    A = torch.sigmoid(Z)
    A.retain_grad()
    yhat = p["w2"] @ A + p["b2"]
    yhat.retain_grad()
    L = torch.sum((yhat - torch.tensor(y)) ** 2) / X.shape[1]
    L.backward()
    grads = {k: v.grad.numpy() for k, v in p.items()}
    grads.update(A=A.grad.numpy(), Z=Z.grad.numpy(), yhat=yhat.grad.numpy())
    return L.item(), grads


# ------------------------------------------------------------------ activations
@pytest.mark.parametrize("name", NAMES)
def test_activation_and_grad_match_torch(ref, name):
    rng = np.random.default_rng(1)
    Z = 3 * rng.normal(size=(4, 5))
    Z[0, :4] = [0.0, -0.0, 1e-300, -1e-300]
    Z[1, :4] = [-1000.0, 1000.0, -40.0, 40.0]
    z = t(Z)
    out = TORCH_ACT[name](z)
    out.sum().backward()
    close(ref.activation(Z, name), out.detach().numpy(), atol=1e-15)
    close(ref.activation_grad(Z, name), z.grad.numpy(), atol=1e-15)
    assert np.all(np.isfinite(ref.activation_grad(Z, name)))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "identity"])
def test_activation_grad_matches_numerical(ref, name):
    Z = np.random.default_rng(2).normal(size=(3, 6))
    close(ref.activation_grad(Z, name),
          numerical_gradient(lambda z: ref.activation(z, name), Z.copy()), rtol=1e-6)


def test_relu_grad_convention_at_zero(ref):
    Z = np.array([[-1.0, 0.0, 2.0, -0.0]])
    close(ref.activation_grad(Z, "relu"), [[0.0, 0.0, 1.0, 0.0]])


def test_unknown_activation_raises(ref):
    with pytest.raises(ValueError):
        ref.activation(np.zeros((1, 1)), "softplus")
    with pytest.raises(ValueError):
        ref.activation_grad(np.zeros((1, 1)), "softplus")


# ------------------------------------------------------------------ the two-layer MLP
@pytest.mark.parametrize("D,H,N,scale", [(4, 2, 3, 1.0), (4, 2, 1, 1.0), (3, 5, 7, 1.0),
                                         (1, 1, 2, 1.0), (4, 2, 3, 300.0)])
def test_mlp2_matches_torch(ref, D, H, N, scale):
    X, W1, b1, w2, b2, y = mlp2_inputs(np.random.default_rng(D * 100 + H * 10 + N), D, H, N,
                                       scale)
    yhat, cache = ref.mlp2_forward(X, W1, b1, w2, b2)
    L, dyhat = ref.mse_loss(yhat, y)
    grads = ref.mlp2_backward(dyhat, cache)
    tL, tg = torch_mlp2(X, W1, b1, w2, b2, y)
    close(L, tL)
    close(dyhat, tg["yhat"])
    assert set(grads) == {"W1", "b1", "w2", "b2", "A", "Z"}
    for key in grads:
        assert np.shape(grads[key]) == np.shape(tg[key]), key
        close(grads[key], tg[key], atol=1e-12)
        assert np.all(np.isfinite(grads[key]))
    if scale > 100:          # the saturated case really saturates
        assert np.mean((cache["A"] < 1e-12) | (cache["A"] > 1 - 1e-12)) > 0.5


@pytest.mark.parametrize("D,H,N", [(4, 2, 3), (4, 2, 1), (2, 6, 5)])
def test_mlp2_matches_numerical(ref, D, H, N):
    X, W1, b1, w2, b2, y = mlp2_inputs(np.random.default_rng(N), D, H, N)
    params = {"W1": W1, "b1": b1, "w2": w2, "b2": np.array(b2)}

    def loss(**changed):
        p = dict(params, **changed)
        return ref.mse_loss(ref.mlp2_forward(X, p["W1"], p["b1"], p["w2"], float(p["b2"]))[0],
                            y)[0]
    yhat, cache = ref.mlp2_forward(X, W1, b1, w2, b2)
    grads = ref.mlp2_backward(ref.mse_loss(yhat, y)[1], cache)
    for key, value in params.items():
        numeric = numerical_gradient(lambda v, key=key: loss(**{key: v}),
                                     np.array(value, dtype=float))
        close(grads[key], numeric, rtol=1e-6, atol=1e-9)


def test_worked_example_values(ref):
    """The page's worked numbers (hand-picked inputs) against PyTorch."""
    X = np.array([[1.0, -1.0, 2.0], [0.5, 0.0, -1.5], [0.0, 2.0, 1.0], [-1.0, 0.5, 0.0]])
    W1 = np.array([[0.2, -0.4, 0.1, 0.5], [-0.3, 0.1, 0.6, -0.3]])
    b1, w2, b2 = np.array([[0.1], [-0.1]]), np.array([[1.5, -1.0]]), 0.3
    y = np.array([[1.0, 0.0, 0.5]])
    yhat, cache = ref.mlp2_forward(X, W1, b1, w2, b2)
    close(cache["Z"], [[-0.4, 0.35, 1.2], [-0.05, 1.25, -0.25]], atol=1e-15)
    L, dyhat = ref.mse_loss(yhat, y)
    tL, tg = torch_mlp2(X, W1, b1, w2, b2, y)
    close(L, tL)
    grads = ref.mlp2_backward(dyhat, cache)
    for key in ("W1", "b1", "w2", "b2"):
        close(grads[key], tg[key], atol=1e-14)


# ------------------------------------------------------------------ any depth
def deep_inputs(rng, widths, N):
    """The grader's inputs of a deep network (cases.deep_inputs), and targets y (n_L, N)."""
    X, Ws, bs = deep_params(rng, widths, N)
    return X, Ws, bs, rng.normal(size=(widths[-1], N))


def torch_deep(X, Ws, bs, acts, y):
    tW, tb = [t(W) for W in Ws], [t(b) for b in bs]
    A = torch.tensor(X)
    for W, b, name in zip(tW, tb, acts):
        A = TORCH_ACT[name](W @ A + b)
    L = torch.sum((A - torch.tensor(y)) ** 2) / X.shape[1]
    L.backward()
    return L.item(), [W.grad.numpy() for W in tW], [b.grad.numpy() for b in tb]


def ref_deep(ref, X, Ws, bs, acts, y):
    yhat, cache = ref.deep_forward(X, Ws, bs, acts)
    L, dyhat = ref.mse_loss(yhat, y)
    return (L,) + tuple(ref.deep_backward(dyhat, cache)) + (cache,)


@pytest.mark.parametrize("widths,acts,N", DEEP_CASES)
def test_deep_matches_torch(ref, widths, acts, N):
    X, Ws, bs, y = deep_inputs(np.random.default_rng(len(widths) * 10 + N), widths, N)
    L, dWs, dbs, cache = ref_deep(ref, X, Ws, bs, acts, y)
    tL, tdW, tdb = torch_deep(X, Ws, bs, acts, y)
    close(L, tL)
    assert len(dWs) == len(dbs) == len(acts)
    assert len(cache["As"]) == len(acts) + 1 and len(cache["Zs"]) == len(acts)
    for l in range(len(acts)):
        assert dWs[l].shape == Ws[l].shape and dbs[l].shape == bs[l].shape
        close(dWs[l], tdW[l], atol=1e-12)
        close(dbs[l], tdb[l], atol=1e-12)


@pytest.mark.parametrize("widths,acts,N", DEEP_CASES[:5])
def test_deep_matches_numerical(ref, widths, acts, N):
    X, Ws, bs, y = deep_inputs(np.random.default_rng(N + 7), widths, N)
    _, dWs, dbs, _ = ref_deep(ref, X, Ws, bs, acts, y)
    for l in range(len(acts)):
        def loss_W(W, l=l):
            return ref_deep(ref, X, Ws[:l] + [W] + Ws[l + 1:], bs, acts, y)[0]

        def loss_b(b, l=l):
            return ref_deep(ref, X, Ws, bs[:l] + [b] + bs[l + 1:], acts, y)[0]
        close(dWs[l], numerical_gradient(loss_W, Ws[l].copy()), rtol=1e-6, atol=1e-9)
        close(dbs[l], numerical_gradient(loss_b, bs[l].copy()), rtol=1e-6, atol=1e-9)


def test_deep_relu_at_exactly_zero_matches_torch(ref):
    """An all-zero example and zero biases put every unit at z = 0 for that example."""
    widths, acts, N = [3, 4, 4, 2], ["relu", "relu", "identity"], 4
    X, Ws, bs, y = deep_inputs(np.random.default_rng(5), widths, N)
    X[:, 0] = 0.0
    bs = [np.zeros_like(b) for b in bs]
    L, dWs, dbs, cache = ref_deep(ref, X, Ws, bs, acts, y)
    assert np.all(cache["Zs"][0][:, 0] == 0) and np.all(cache["Zs"][1][:, 0] == 0)
    _, tdW, tdb = torch_deep(X, Ws, bs, acts, y)
    for l in range(len(acts)):
        close(dWs[l], tdW[l], atol=1e-12)
        close(dbs[l], tdb[l], atol=1e-12)


def test_deep_with_two_layers_is_the_seed_network(ref):
    X, W1, b1, w2, b2, y = mlp2_inputs(np.random.default_rng(11), 4, 2, 3)
    yhat, cache = ref.mlp2_forward(X, W1, b1, w2, b2)
    grads = ref.mlp2_backward(ref.mse_loss(yhat, y)[1], cache)
    L, dWs, dbs, _ = ref_deep(ref, X, [W1, w2], [b1, np.array([[b2]])],
                              ["sigmoid", "identity"], y)
    close(dWs[0], grads["W1"]), close(dWs[1], grads["w2"])
    close(dbs[0], grads["b1"]), close(dbs[1], [[grads["b2"]]])


# ------------------------------------------------------------------ the row convention
def test_affine_rows_matches_torch_and_is_the_transpose(ref):
    rng = np.random.default_rng(3)
    X, W1, b1, w2, b2, y = mlp2_inputs(rng, 4, 3, 5)
    yhat, cache = ref.mlp2_forward(X, W1, b1, w2, b2)
    grads = ref.mlp2_backward(ref.mse_loss(yhat, y)[1], cache)
    out, rcache = ref.affine_rows_forward(X.T, W1.T, b1.ravel())
    close(out, cache["Z"].T)
    dX, dW, db = ref.affine_rows_backward(grads["Z"].T, rcache)
    close(dW, grads["W1"].T)
    close(db, grads["b1"].ravel())
    assert db.shape == (3,)
    tX, tW, tb = t(X.T), t(W1.T), t(b1.ravel())
    (tX @ tW + tb).backward(torch.tensor(grads["Z"].T))
    close(dX, tX.grad.numpy()), close(dW, tW.grad.numpy()), close(db, tb.grad.numpy())
    close(dX, (W1.T @ grads["Z"]).T)


# ------------------------------------------------------------------ the seed's errata
def test_seed_errata(ref):
    """(I - A) with an identity matrix is wrong; delta[1] (A[0])^T is dW1, not db1."""
    X, W1, b1, w2, b2, y = mlp2_inputs(np.random.default_rng(4), 4, 2, 3)
    yhat, cache = ref.mlp2_forward(X, W1, b1, w2, b2)
    grads = ref.mlp2_backward(ref.mse_loss(yhat, y)[1], cache)
    A = cache["A"]
    wrong = (grads["A"] * A * (np.eye(2, 3) - A)) @ X.T
    assert not np.allclose(wrong, grads["W1"])
    close(grads["Z"], grads["A"] * A * (np.ones((2, 3)) - A))
    assert (grads["Z"] @ X.T).shape == (2, 4) != grads["b1"].shape == (2, 1)
    close(grads["b1"], grads["Z"] @ np.ones((3, 1)))


# ------------------------------------------------------------------ the notebooks
def run_notebook_cells(path):
    """Execute every code cell of a notebook in one namespace; return the printed text."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    namespace = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                exec(compile(cells.strip_magics(source), str(path), "exec"), namespace)
    return out.getvalue()


SOLUTION = ROOT / "solutions" / "ch03_mlp" / "ch03_mlp.ipynb"
EXERCISE = ROOT / "exercises" / "ch03_mlp" / "ch03_mlp.ipynb"


def test_solution_public_checks_all_pass():
    text = run_notebook_cells(SOLUTION)
    assert "[FAIL]" not in text and "[todo]" not in text, text
    assert text.count("[ ok ]") >= 40


def test_exercise_public_checks_report_todo():
    text = run_notebook_cells(EXERCISE)
    assert "[ ok ]" not in text and "[FAIL]" not in text, text
    assert text.count("[todo]") >= 40


def test_exercise_holds_no_solution_code():
    ex = EXERCISE.read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in ex and "END SOLUTION" not in ex
    sol = json.loads(SOLUTION.read_text(encoding="utf-8"))
    for cell in sol["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            body = "".join(cell["source"]).split("### BEGIN SOLUTION")[1]
            body = body.split("### END SOLUTION")[0]
            for line in body.splitlines():
                line = line.strip()
                if len(line) > 12 and not line.startswith("#"):
                    assert json.dumps(line)[1:-1] not in ex, line


def test_public_checks_need_only_numpy():
    nb = json.loads(EXERCISE.read_text(encoding="utf-8"))
    imported = set()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            for node in ast.walk(ast.parse("".join(cell["source"]))):
                if isinstance(node, ast.Import):
                    imported |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom):
                    imported.add(node.module.split(".")[0])
    assert imported <= {"numpy", "warnings"}, imported


def test_public_checks_catch_the_identity_matrix_mistake(tmp_path):
    nb = json.loads(SOLUTION.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "mlp2_backward":
            src = "".join(cell["source"])
            assert "dZ = dA * A * (1.0 - A)" in src
            cell["source"] = src.replace("dZ = dA * A * (1.0 - A)",
                                         "dZ = dA * A * (np.eye(*A.shape) - A)")
    wrong = tmp_path / "wrong.ipynb"
    wrong.write_text(json.dumps(nb), encoding="utf-8")
    text = run_notebook_cells(wrong)
    assert "[FAIL] dL/dZ" in text
    assert "Likely cause: used (I - A) with an identity matrix" in text
