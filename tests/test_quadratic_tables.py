"""Chapter 2's tables on the quadratic bowl: each row agrees with the theory it prints."""

import numpy as np
import pytest

from lrcourse.core import objectives, theory
from lrcourse.results import tables


BOWL = objectives.quadratic((1.0, 10.0), angle=np.pi / 6)
W0 = np.array([-2.0, 1.5])


def _numbers(line):
    return [float(x) for x in line.replace("−", "-").split() if x.lstrip("+-").replace(".", "", 1).isdigit()]


def test_one_step_table_exact_loss_and_first_order_guess():
    bowl = objectives.quadratic((1.0, 10.0))
    lines = tables.one_step_table(bowl, np.array([1.0, 1.0]), [0.1, 0.25]).splitlines()
    assert lines[0].split()[0] == "α" and "first-order guess" in lines[0]
    assert _numbers(lines[1]) == pytest.approx([0.1, 0.405, -4.6])     # 𝓛((0.9, 0)) = 0.405; 5.5 − 0.1·101
    assert _numbers(lines[2])[1] == pytest.approx(11.5312, abs=1e-4)    # above 2/L the step raises the loss


def test_threshold_table_converges_below_two_over_l_and_diverges_above():
    lines = tables.threshold_table(BOWL, W0, [0.5, 1.1], steps=300).splitlines()
    assert lines[0].startswith("α/(2/L)") and "𝓛≤1e-6" in lines[0]
    assert "converges" in lines[1] and lines[2].split()[3] == "never" and "diverges" in lines[2]
    assert _numbers(lines[1])[:3] == pytest.approx([0.5, 0.1, theory.rate(0.1, 10.0, 1.0)], abs=5e-3)


def test_rate_table_measured_equals_predicted_on_the_bowl():
    best = theory.optimal_lr(10.0, 1.0)
    lines = tables.rate_table(BOWL, W0, [0.5 * best, best], steps=100, reference=best).splitlines()
    for line in lines[1:]:
        ratio, lr, predicted, measured = _numbers(line)
        assert predicted == pytest.approx(measured, abs=1e-4)
    assert _numbers(lines[2])[2] == pytest.approx(9 / 11, abs=1e-4)  # (κ − 1)/(κ + 1) at α*


def test_coordinates_table_ratios_are_one_minus_alpha_lambda():
    lines = tables.coordinates_table(BOWL, W0, 0.17, steps=6).splitlines()
    assert len(lines) == 1 + 7 + 2 and "c_μ (λ=1)" in lines[0] and "c_L (λ=10)" in lines[0]
    assert lines[-2].endswith("from +0.8300 to +0.8300, predicted +0.8300")
    assert lines[-1].endswith("from -0.7000 to -0.7000, predicted -0.7000")
    with pytest.raises(ValueError, match="not a quadratic"):
        tables.coordinates_table(objectives.rosenbrock(), W0, 0.1, steps=3)


def test_conditioning_table_steps_grow_with_kappa():
    lines = tables.conditioning_table([10, 100], W0, steps=1500).splitlines()
    (k10, want10, got10, per10, *_), (k100, want100, got100, per100, *_) = (_numbers(l) for l in lines[1:])
    assert (want10, got10, want100, got100) == (69, 69, 691, 691)   # at α* the measurement is the prediction
    assert per10 == per100 == pytest.approx(6.9)
    never = tables.conditioning_table([100], W0, steps=50).splitlines()[-1]
    assert _numbers(never)[2] == -1  # not reached within the steps
