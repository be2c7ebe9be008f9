"""Logistic regression on two digits: correct gradient, α that works, α that blows up, bad input."""

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse.core import logistic, optim


@pytest.fixture(scope="module")
def digits():
    return logistic.load_two_digits(3, 8, seed=0)


def _small_problem(seed, n=12, d=4):
    rng = np.random.default_rng(seed)
    X = np.hstack([np.ones((n, 1)), rng.normal(size=(n, d - 1))])
    y = (rng.random(n) < 0.5).astype(float)
    return X, y, rng


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([0.1, 1.0, 5.0]),
       l2=st.sampled_from([0.0, 0.3]))
def test_gradient_matches_finite_differences(seed, scale, l2):
    X, y, rng = _small_problem(seed)
    w = scale * rng.normal(size=X.shape[1])
    _, grad = logistic.loss_and_grad(w, X, y, l2)
    h = 1e-6
    numeric = np.array([(logistic.loss_and_grad(w + h * e, X, y, l2)[0]
                         - logistic.loss_and_grad(w - h * e, X, y, l2)[0]) / (2 * h)
                        for e in np.eye(len(w))])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_loss_is_the_textbook_cross_entropy_and_stays_finite_when_confidently_wrong():
    X, y, rng = _small_problem(1)
    w = rng.normal(size=X.shape[1])
    p = 1 / (1 + np.exp(-X @ w))
    textbook = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)) + 0.5 * 0.2 * w @ w
    assert logistic.loss_and_grad(w, X, y, 0.2)[0] == pytest.approx(textbook, rel=1e-12)
    # z = ±1000: the textbook form takes log(0); the stable form gives the exact loss |z| = 1000
    X1, y1 = np.array([[1.0]]), np.array([0.0])
    loss, grad = logistic.loss_and_grad(np.array([1000.0]), X1, y1)
    assert loss == pytest.approx(1000.0) and grad == pytest.approx([1.0])
    assert logistic.loss_and_grad(np.array([-1000.0]), X1, y1)[0] == pytest.approx(0.0, abs=1e-300)


def test_data_split_is_fixed_standardised_and_labelled(digits):
    again = logistic.load_two_digits(3, 8, seed=0)
    for a, b in zip(digits, again):
        np.testing.assert_array_equal(a, b)
    X, y = digits.X_train, digits.y_train
    assert X.shape[1] == 65 and np.all(X[:, 0] == 1)
    assert len(digits.y_test) == round(0.3 * (len(y) + len(digits.y_test)))
    assert set(np.unique(y)) == {0.0, 1.0}
    np.testing.assert_allclose(X[:, 1:].mean(axis=0), 0, atol=1e-12)
    assert np.all(np.isin(np.round(X[:, 1:].std(axis=0), 12), (0.0, 1.0)))
    other = logistic.load_two_digits(3, 8, seed=1)
    assert not np.array_equal(other.y_train, y)


def test_a_good_learning_rate_reaches_high_test_accuracy(digits):
    run = logistic.train(digits.X_train, digits.y_train, lr=1.0, steps=100, l2=0.01)
    assert not run.diverged and run.diverged_at is None
    assert run.losses[0] == pytest.approx(np.log(2))  # w = 0 predicts 1/2 everywhere
    assert run.losses[-1] < 0.1 < 0.2 < logistic.train(digits.X_train, digits.y_train, 0.01, 100, l2=0.01).losses[-1]
    assert logistic.accuracy(run.weights, digits.X_test, digits.y_test) >= 0.95


def test_a_huge_learning_rate_is_reported_as_diverged_not_crashed(digits):
    run = logistic.train(digits.X_train, digits.y_train, lr=1e4, steps=100, l2=0.01)
    assert run.diverged and 1 <= run.diverged_at < 100
    t = run.diverged_at
    assert np.all(np.isfinite(run.losses[:t])) and np.all(np.isnan(run.losses[t + 1:]))
    assert run.losses[t] > 1e6 or not np.isfinite(run.losses[t])


def test_train_accepts_other_optimizers_and_is_plain_gradient_descent_by_default():
    X, y, _ = _small_problem(2)
    run = logistic.train(X, y, lr=0.5, steps=3)
    w = np.zeros(X.shape[1])
    for _ in range(3):
        w = w - 0.5 * logistic.loss_and_grad(w, X, y)[1]
    np.testing.assert_allclose(run.weights, w, rtol=1e-12)
    adam = logistic.train(X, y, lr=0.1, steps=50, optimizer=functools.partial(optim.adam, betas=(0.9, 0.99)))
    assert adam.losses[-1] < adam.losses[0]


def test_accuracy_counts_the_right_side_of_the_boundary():
    X = np.array([[1.0, 2.0], [1.0, -2.0], [1.0, 0.5]])
    assert logistic.accuracy(np.array([0.0, 1.0]), X, np.array([1.0, 0.0, 0.0])) == pytest.approx(2 / 3)


@pytest.mark.parametrize("call, message", [
    (lambda d: logistic.train(d.X_train, d.y_train, lr=-0.1, steps=5), "Invalid learning rate: -0.1"),
    (lambda d: logistic.train(d.X_train, d.y_train, lr=float("nan"), steps=5), "Invalid learning rate"),
    (lambda d: logistic.train(d.X_train, d.y_train, lr=0.1, steps=0), "Invalid steps value: 0"),
    (lambda d: logistic.train(d.X_train, d.y_train, lr=0.1, steps=2.5), "Invalid steps value: 2.5"),
    (lambda d: logistic.train(d.X_train, d.y_train, lr=0.1, steps=5, l2=-1), "Invalid l2 value: -1"),
    (lambda d: logistic.train(d.X_train, d.y_train[:-1], lr=0.1, steps=5), "Invalid y: shape"),
    (lambda d: logistic.loss_and_grad(np.zeros(3), d.X_train, d.y_train), "Invalid w: shape (3,)"),
    (lambda d: logistic.accuracy(np.zeros(65), d.X_train, 2 * d.y_train), "Invalid y: labels"),
    (lambda d: logistic.loss_and_grad(np.zeros(65), d.X_train[0], d.y_train), "Invalid X: shape"),
    (lambda d: logistic.load_two_digits(3, 10), "Invalid digit value: 10"),
    (lambda d: logistic.load_two_digits(-1, 8), "Invalid digit value: -1"),
    (lambda d: logistic.load_two_digits(3.0, 8), "Invalid digit value: 3.0"),
    (lambda d: logistic.load_two_digits(3, 3), "Invalid digits: 3 and 3"),
    (lambda d: logistic.load_two_digits(3, 8, test_fraction=1.0), "Invalid test_fraction value: 1.0"),
])
def test_bad_input_is_a_value_error_naming_it(digits, call, message):
    with pytest.raises(ValueError) as error:
        call(digits)
    assert message in str(error.value)
