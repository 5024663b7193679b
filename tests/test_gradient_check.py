import numpy as np

from seqmodels.gradient_check import numerical_gradient, relative_error


def test_numerical_gradient_of_a_quadratic_form_matches_calculus():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal((4, 1))
    f = lambda: float((x.T @ A @ x).item())  # noqa: E731
    assert relative_error((A + A.T) @ x, numerical_gradient(f, x)) < 1e-8


def test_numerical_gradient_restores_its_input():
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    numerical_gradient(lambda: float(np.sum(np.sin(x))), x)
    assert np.array_equal(x, before)


def test_relative_error_flags_a_wrong_gradient():
    assert relative_error(np.ones(3), 2 * np.ones(3)) > 0.3
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
