"""lrcourse.engine.sharpness: the top Hessian eigenvalue by power iteration on Hessian-vector products."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from lrcourse.engine import sharpness
from lrcourse.engine.sharpness import (hessian_vector_product, power_iteration, top_hessian_eigenpair,
                                       top_hessian_eigenvalue)


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest.py


def quadratic(spectrum, seed=0, dtype=torch.float64):
    """½ wᵀAw with A = Q diag(spectrum) Qᵀ for a random rotation Q; w is a random point."""
    g = torch.Generator().manual_seed(seed)
    n = len(spectrum)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=dtype))
    a = q @ torch.diag(torch.tensor(spectrum, dtype=dtype)) @ q.T
    w = torch.randn(n, generator=g, dtype=dtype, requires_grad=True)
    return 0.5 * w @ a @ w, w, a


def tiny_model(seed=0):
    """A 3 → 4 → 2 tanh net and a batch: 26 weights, few enough to form the Hessian."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    x = torch.randn(20, 3, dtype=torch.float64)
    y = torch.randint(0, 2, (20,))
    return model, x, y


def exact_spectrum(model, x, y):
    """Every eigenvalue of the Hessian of the cross-entropy, from the explicit n × n Hessian."""
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [p.numel() for _, p in model.named_parameters()]
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])

    def loss(theta):
        parts = dict(zip(names, (t.view(s) for t, s in zip(theta.split(sizes), shapes))))
        return F.cross_entropy(functional_call(model, parts, (x,)), y)

    hessian = torch.autograd.functional.hessian(loss, flat)
    return torch.linalg.eigvalsh(hessian)


# ------------------------------------------------------------------ correctness

def test_matches_the_explicit_hessian_of_a_small_network():
    model, x, y = tiny_model()
    exact = exact_spectrum(model, x, y)
    pair = top_hessian_eigenpair(F.cross_entropy(model(x), y), model.parameters(), iters=2000, tol=1e-6)
    assert pair.converged
    assert pair.value == pytest.approx(exact.max().item(), rel=1e-6)
    assert exact.min().item() < 0 < exact.max().item()     # a real network: not convex here


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_other_networks_too(seed):
    model, x, y = tiny_model(seed)
    exact = exact_spectrum(model, x, y).max().item()
    got = top_hessian_eigenvalue(F.cross_entropy(model(x), y), list(model.parameters()), iters=2000, tol=1e-6)
    assert got == pytest.approx(exact, rel=1e-5)


def test_quadratic_with_known_spectrum():
    loss, w, a = quadratic([10.0, 4.0, 1.0, 0.5, -2.0])
    pair = top_hessian_eigenpair(loss, [w], iters=500, tol=1e-8)
    assert pair.value == pytest.approx(10.0, rel=1e-10)
    v = pair.vector[0]
    assert torch.allclose(a @ v, 10.0 * v, atol=1e-6)        # and the vector is its eigenvector
    assert v.norm().item() == pytest.approx(1.0)


def test_the_top_eigenvalue_not_the_largest_in_magnitude():
    """Plain power iteration finds −6 here; the sharpness is 3."""
    loss, w, _ = quadratic([-6.0, 3.0, 1.0, 0.2])
    naive = power_iteration(hessian_vector_product(loss, [w]), (torch.ones(4, dtype=torch.float64),),
                            iters=500, tol=1e-8)
    assert naive.value == pytest.approx(-6.0, rel=1e-6)      # the dominant eigenvalue...
    top = top_hessian_eigenvalue(loss, [w], iters=2000, tol=1e-8)
    assert top == pytest.approx(3.0, rel=1e-6)               # ...is not the top one


def test_a_negative_definite_hessian():
    loss, w, _ = quadratic([-1.0, -2.0, -5.0])
    assert top_hessian_eigenvalue(loss, [w], iters=2000, tol=1e-8) == pytest.approx(-1.0, rel=1e-5)


def test_equal_and_opposite_dominant_eigenvalues():
    """λ = 4 and −4: power iteration alone never settles; the shift resolves it."""
    loss, w, _ = quadratic([4.0, -4.0, 1.0])
    alone = power_iteration(hessian_vector_product(loss, [w]), (torch.ones(3, dtype=torch.float64),),
                            iters=200, tol=1e-8)
    assert not alone.converged
    assert top_hessian_eigenvalue(loss, [w], iters=2000, tol=1e-8) == pytest.approx(4.0, rel=1e-6)


def test_several_parameter_tensors_and_an_unused_one():
    """The loss Σ a·x² + 3·b² over two tensors; c does not enter: its rows are zero."""
    a_coef = torch.tensor([1.0, 2.5], dtype=torch.float64)
    x = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([[0.5]], dtype=torch.float64, requires_grad=True)
    c = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    loss = (a_coef * x ** 2).sum() + 3 * (b ** 2).sum()
    pair = top_hessian_eigenpair(loss, [x, b, c], iters=500, tol=1e-9)
    assert pair.value == pytest.approx(6.0, rel=1e-8)        # Hessian diag(2, 5, 6, 0, 0, 0)
    assert [tuple(t.shape) for t in pair.vector] == [(2,), (1, 1), (3,)]
    assert abs(pair.vector[1].item()) == pytest.approx(1.0, abs=1e-6)
    hv = hessian_vector_product(loss, [x, b, c])((x.detach(), b.detach(), torch.ones(3, dtype=torch.float64)))
    assert torch.allclose(hv[0], 2 * a_coef * x.detach()) and torch.equal(hv[2], torch.zeros(3, dtype=torch.float64))


def test_hessian_vector_product_equals_the_explicit_hessian():
    loss, w, a = quadratic([3.0, 1.0, -0.5])
    v = torch.tensor([0.2, -1.0, 0.7], dtype=torch.float64)
    product = hessian_vector_product(loss, [w])
    assert torch.allclose(product((v,))[0], a @ v)
    assert torch.allclose(product((2 * v,))[0], 2 * a @ v)   # the graph is kept: many products


def test_warm_start_from_the_eigenvector_takes_one_product():
    loss, w, _ = quadratic([5.0, 4.9, 1.0])
    cold = top_hessian_eigenpair(loss, [w], iters=5000, tol=1e-6)
    loss, w, _ = quadratic([5.0, 4.9, 1.0])
    warm = top_hessian_eigenpair(loss, [w], iters=5000, tol=1e-6, init=cold.vector)
    assert cold.products > 50 and warm.products == 1
    assert warm.value == pytest.approx(5.0, rel=1e-6)


def test_same_seed_same_answer_and_the_global_generator_is_untouched():
    model, x, y = tiny_model()
    state = torch.random.get_rng_state()
    a = top_hessian_eigenvalue(F.cross_entropy(model(x), y), model.parameters(), iters=20, seed=3)
    b = top_hessian_eigenvalue(F.cross_entropy(model(x), y), model.parameters(), iters=20, seed=3)
    assert a == b and torch.equal(torch.random.get_rng_state(), state)


def test_float32_models_work():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    x, y = torch.randn(30, 5), torch.randint(0, 3, (30,))
    value = top_hessian_eigenvalue(F.cross_entropy(model(x), y), model.parameters(), iters=500, tol=1e-4)
    model64, x64 = model.double(), x.double()
    exact = exact_spectrum(model64, x64, y).max().item()
    assert value == pytest.approx(exact, rel=1e-3)


# ------------------------------------------------------------------ it can fail, and says so

def test_too_few_iterations_are_reported_and_underestimate():
    """A small gap (5 vs 4.9) needs hundreds of products; 3 give a visibly wrong answer."""
    loss, w, _ = quadratic([5.0, 4.9, 4.8, 1.0], seed=1)
    short = top_hessian_eigenpair(loss, [w], iters=3, tol=1e-8)
    assert not short.converged
    assert short.value < 5.0 and short.value == pytest.approx(5.0, rel=0.1)
    assert "not converged" in repr(short)
    long = top_hessian_eigenpair(loss, [w], iters=20000, tol=1e-8)
    assert long.converged and long.value == pytest.approx(5.0, rel=1e-8)
    assert abs(short.value - 5.0) > 1e3 * abs(long.value - 5.0)


def test_a_loose_tolerance_can_stop_at_the_second_eigenvalue():
    """The documented limit of the residual test: close eigenvalues, a start almost orthogonal to
    the top eigenvector, tol = 1e-2 — it stops near λ₂ = 7.8 and calls that converged."""
    loss, w, a = quadratic([8.5, 7.8, 1.0])
    _, vectors = torch.linalg.eigh(a)                       # ascending: the last is the top one
    start = [vectors[:, 1] + 0.01 * vectors[:, 2]]
    loose = top_hessian_eigenpair(loss, [w], tol=1e-2, init=start)
    assert loose.converged and loose.value == pytest.approx(7.8, rel=1e-3)
    tight = top_hessian_eigenpair(loss, [w], iters=5000, tol=1e-6, init=start)
    assert tight.converged and tight.value == pytest.approx(8.5, rel=1e-8)


def test_a_wrong_hessian_would_be_caught():
    """The comparison in these tests has teeth: doubling one weight's curvature changes the answer."""
    loss, w, _ = quadratic([2.0, 1.0])
    right = top_hessian_eigenvalue(loss, [w], iters=500, tol=1e-8)
    loss2, w2, _ = quadratic([2.0, 1.0])
    wrong = top_hessian_eigenvalue(loss2 + (w2[0] ** 2), [w2], iters=500, tol=1e-8)
    assert right == pytest.approx(2.0, rel=1e-6) and abs(wrong - right) > 0.05


# ------------------------------------------------------------------ bad input

def test_bad_input():
    loss, w, _ = quadratic([1.0, 2.0])
    with pytest.raises(ValueError, match="Invalid iters value: 0"):
        top_hessian_eigenvalue(loss, [w], iters=0)
    with pytest.raises(ValueError, match="Invalid iters value: 2.5"):
        top_hessian_eigenvalue(loss, [w], iters=2.5)
    with pytest.raises(ValueError, match="Invalid tol value: -0.1"):
        top_hessian_eigenvalue(loss, [w], tol=-0.1)
    with pytest.raises(ValueError, match="Invalid tol value: nan"):
        top_hessian_eigenvalue(loss, [w], tol=math.nan)
    with pytest.raises(ValueError, match=r"Invalid params: \[\]"):
        top_hessian_eigenvalue(loss, [])
    with pytest.raises(ValueError, match="Invalid params: entry 0"):
        top_hessian_eigenvalue(loss, [w.detach()])
    with pytest.raises(ValueError, match=r"Invalid loss: \(2,\)"):
        top_hessian_eigenvalue(w * 2, [w])
    with pytest.raises(ValueError, match="Invalid loss: float"):
        top_hessian_eigenvalue(1.0, [w])
    with pytest.raises(ValueError, match="does not require grad"):
        top_hessian_eigenvalue(loss.detach(), [w])
    with pytest.raises(ValueError, match="Invalid loss: nan"):
        top_hessian_eigenvalue(loss * math.nan, [w])
    with pytest.raises(ValueError, match="Invalid init: shapes"):
        top_hessian_eigenvalue(loss, [w], init=[torch.ones(3)])
    with pytest.raises(ValueError, match="Invalid init: a vector of norm 0"):
        top_hessian_eigenvalue(loss, [w], init=[torch.zeros(2)])


def test_public_names():
    assert sharpness.top_hessian_eigenvalue is top_hessian_eigenvalue
    assert {"top_hessian_eigenvalue", "top_hessian_eigenpair", "hessian_vector_product",
            "power_iteration", "lanczos", "Eigenpair"} <= set(dir(sharpness))


# ------------------------------------------------------------------ Lanczos

def test_lanczos_matches_the_explicit_hessian_of_a_small_network():
    model, x, y = tiny_model()
    exact = exact_spectrum(model, x, y).max().item()
    pair = top_hessian_eigenpair(F.cross_entropy(model(x), y), model.parameters(), iters=500, tol=1e-8,
                                 method="lanczos")
    assert pair.converged and pair.residual <= 1e-8
    assert pair.value == pytest.approx(exact, rel=1e-7)


def test_lanczos_converges_where_power_iteration_hits_its_cap():
    """Close top eigenvalues, as on the chapter's MLP (17.50, 17.17, 16.60): 100 power
    iterations stop short and low; Lanczos converges in a few dozen products."""
    spectrum = [17.50, 17.17, 16.60, 12.0, 5.0, 1.0, -3.0, -8.0] + [0.5] * 24
    loss, w, a = quadratic(spectrum, seed=2)
    exact = torch.linalg.eigvalsh(a).max().item()
    power = top_hessian_eigenpair(loss, [w], iters=100, tol=1e-4)
    lanczos = top_hessian_eigenpair(loss, [w], iters=100, tol=1e-4, method="lanczos")
    assert not power.converged and power.value < exact
    assert lanczos.converged and lanczos.products < 60
    assert lanczos.value == pytest.approx(exact, rel=1e-6)
    assert abs(lanczos.value - exact) < abs(power.value - exact) / 100


def test_lanczos_finds_the_top_eigenvalue_when_a_negative_one_dominates():
    loss, w, _ = quadratic([10.0, 4.0, 1.0, -12.0])
    pair = top_hessian_eigenpair(loss, [w], tol=1e-8, method="lanczos")
    assert pair.converged and pair.value == pytest.approx(10.0, rel=1e-8)


def test_lanczos_reports_a_cap_it_could_not_meet():
    """A spread spectrum, a cap of 12 products and a tight tol: not converged, a lower bound."""
    spectrum = list(torch.linspace(1.0, 10.0, 200).tolist())
    loss, w, _ = quadratic(spectrum, seed=3)
    pair = top_hessian_eigenpair(loss, [w], iters=12, tol=1e-10, method="lanczos")
    assert not pair.converged and pair.value < 10.0 and pair.residual > 1e-10
    assert "not converged" in repr(pair)


def test_lanczos_on_two_weights_and_on_a_warm_start():
    loss, w, _ = quadratic([3.0, -1.0])
    assert top_hessian_eigenvalue(loss, [w], tol=1e-10, method="lanczos") == pytest.approx(3.0, rel=1e-10)
    loss, w, _ = quadratic([9.0, 8.9, 2.0, 1.0, 0.5], seed=4)
    cold = top_hessian_eigenpair(loss, [w], tol=1e-8, method="lanczos")
    warm = top_hessian_eigenpair(loss, [w], tol=1e-8, method="lanczos", init=cold.vector)
    assert warm.converged and warm.value == pytest.approx(9.0, rel=1e-8)


def test_lanczos_bad_input():
    loss, w, _ = quadratic([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Invalid method: 'arnoldi'"):
        top_hessian_eigenvalue(loss, [w], method="arnoldi")
    with pytest.raises(ValueError, match="Invalid init: a vector of norm 0"):
        top_hessian_eigenvalue(loss, [w], init=[torch.zeros(3)], method="lanczos")
    with pytest.raises(ValueError, match="Invalid max_products value: 0"):
        sharpness.lanczos(hessian_vector_product(loss, [w]), (torch.ones(3, dtype=torch.float64),), max_products=0)
