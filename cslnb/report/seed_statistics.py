"""How far apart two methods are over a handful of seeds, and how sure that is.

Two runs of different losses with the same seed share their initialisation, batch order and
augmentation, so where both methods have the same seeds the comparison is *paired*: the
differences ``d_s = a_s - b_s`` of each seed s get a one-sample Student-t interval
(:func:`paired_interval`). Where the seeds differ the comparison falls back to *Welch's*
interval (:func:`welch_interval`), which, unlike the pooled-variance interval, does not assume
that both methods scatter alike over seeds: CSL's paper reading has a seed spread of about 10
points on CIFAR-10-LT ratio 50 under ``quick`` against 0.15-1.6 for the baselines.
:func:`seed_difference` picks between the two. With three seeds either interval has only about
2 degrees of freedom, so it is wide.

:func:`permutation_p_value` is the exact two-sided permutation test of the difference of means;
its smallest possible value with 3 seeds against 3 is 2/20 = 0.10, reached exactly when the two
groups' seed ranges do not overlap (the seed-range verdict of :mod:`cslnb.report.summary`).
:func:`seed_std` is the sample standard deviation over seeds that every report table prints.
:func:`binomial_standard_error` is the noise of one accuracy measured on a finite test set.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats


def seed_std(values: np.ndarray | list[float]) -> float:
    """Sample standard deviation over seeds, ``sqrt(sum((x_s - mean)^2) / (n - 1))`` (ddof = 1).

    NaN with fewer than two values: one seed has no spread to estimate.
    """
    array = np.asarray(values, dtype=float)
    return float(array.std(ddof=1)) if array.size > 1 else float("nan")


def t_two_sided_mass(t: float, dof: int) -> float:
    """P(|T| <= t) for Student's t with an integer number of degrees of freedom ``dof`` >= 1.

    The closed form of Abramowitz & Stegun (26.7.3-4), with theta = atan(t / sqrt(dof)):

    * dof odd: ``(2/pi) * (theta + sin(theta) * (cos(theta) + 2/3 cos^3(theta) + ...
      + (2*4*...*(dof-3)) / (1*3*...*(dof-2)) cos^(dof-2)(theta)))`` (for dof = 1 only
      ``2 theta / pi``);
    * dof even: ``sin(theta) * (1 + 1/2 cos^2(theta) + (1*3)/(2*4) cos^4(theta) + ...
      + (1*3*...*(dof-3)) / (2*4*...*(dof-2)) cos^(dof-2)(theta))``.
    """
    if dof < 1 or int(dof) != dof:
        raise ValueError(f"dof must be a positive integer, got {dof!r}")
    theta = math.atan(abs(t) / math.sqrt(dof))
    sin, cos = math.sin(theta), math.cos(theta)
    if dof % 2 == 1:
        term, series = cos, 0.0
        for k in range(1, (dof - 1) // 2 + 1):
            series += term
            term *= cos * cos * (2 * k) / (2 * k + 1)
        return 2 / math.pi * (theta + sin * series)
    term, series = 1.0, 0.0
    for k in range(1, dof // 2 + 1):
        series += term
        term *= cos * cos * (2 * k - 1) / (2 * k)
    return sin * series


def t_quantile(confidence: float, dof: int) -> float:
    """The two-sided critical value t* with P(|T| <= t*) = ``confidence`` (Student's t, ``dof``
    degrees of freedom), found by bisection on :func:`t_two_sided_mass`; e.g. 4.303 for 0.95 and
    dof 2, 2.776 for dof 4."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    low, high = 0.0, 1.0
    while t_two_sided_mass(high, dof) < confidence:
        low, high = high, 2 * high
    for _ in range(200):
        middle = (low + high) / 2
        if t_two_sided_mass(middle, dof) < confidence:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * high:
            break
    return (low + high) / 2


PAIRED = "paired"
WELCH = "Welch"


@dataclass(frozen=True)
class SeedDifference:
    """``mean(a) - mean(b)`` with its interval; ``method`` is ``paired`` or ``Welch``."""

    difference: float
    low: float
    high: float
    dof: float
    method: str
    p_value: float
    """Exact two-sided permutation p-value of the difference of means (NaN without runs)."""


def paired_interval(
    a: np.ndarray, b: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Mean of the per-seed differences ``d = a - b`` (same seeds, same order) and its interval
    ``mean(d) ± t*(confidence, n - 1) · s_d / sqrt(n)``, ``s_d`` the sample standard deviation
    of d. Returns ``(mean(d), low, high)``; NaN bounds under 2 seeds. Identical runs give
    ``(0, 0, 0)``."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(d.mean())
    if d.size < 2:
        return mean, float("nan"), float("nan")
    half = t_quantile(confidence, d.size - 1) * float(d.std(ddof=1)) / math.sqrt(d.size)
    return mean, mean - half, mean + half


def welch_dof(a: np.ndarray, b: np.ndarray) -> float:
    """Welch-Satterthwaite degrees of freedom
    ``(v_a + v_b)^2 / (v_a^2 / (n_a - 1) + v_b^2 / (n_b - 1))`` with ``v = s^2 / n``; NaN with
    under 2 values on a side or no spread on either."""
    if a.size < 2 or b.size < 2:
        return float("nan")
    v_a, v_b = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    if v_a + v_b == 0:
        return float("nan")
    return float((v_a + v_b) ** 2 / (v_a**2 / (a.size - 1) + v_b**2 / (b.size - 1)))


def welch_interval(
    a: np.ndarray, b: np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """``mean(a) - mean(b) ± t*(confidence, ν) · sqrt(s_a²/n_a + s_b²/n_b)``, ν from
    :func:`welch_dof` (not an integer in general: the quantile comes from
    :func:`scipy.stats.t.ppf`). Returns ``(difference, low, high)``; NaN bounds with under 2
    seeds on either side, zero width when neither side has any spread."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 0 or b.size == 0:
        return float("nan"), float("nan"), float("nan")
    difference = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return difference, float("nan"), float("nan")
    dof = welch_dof(a, b)
    if math.isnan(dof):
        return difference, difference, difference
    error = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * error
    return difference, difference - half, difference + half


def permutation_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """Exact two-sided permutation p-value of ``mean(a) - mean(b)``: the share of the
    ``C(n_a + n_b, n_a)`` ways of splitting the pooled values into groups of n_a and n_b whose
    absolute difference of means is at least the observed one (NaN if a group is empty)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 0 or b.size == 0:
        return float("nan")
    pooled = np.concatenate([a, b])
    total = pooled.sum()
    observed = abs(a.mean() - b.mean())
    extreme = splits = 0
    for chosen in itertools.combinations(range(pooled.size), a.size):
        first = pooled[list(chosen)].sum()
        difference = first / a.size - (total - first) / b.size
        extreme += abs(difference) >= observed - 1e-9 * max(1.0, observed)
        splits += 1
    return extreme / splits


def seed_difference(
    a: Mapping[int, float], b: Mapping[int, float], confidence: float = 0.95
) -> SeedDifference:
    """Compare two methods given as ``{seed: accuracy}``: the paired interval when both have
    the same seeds (at least 2), else Welch's; with the exact permutation p-value."""
    values_a = np.asarray([a[seed] for seed in sorted(a)], dtype=float)
    values_b = np.asarray([b[seed] for seed in sorted(b)], dtype=float)
    p_value = permutation_p_value(values_a, values_b)
    if set(a) == set(b) and len(a) >= 2:
        difference, low, high = paired_interval(values_a, values_b, confidence)
        return SeedDifference(difference, low, high, float(len(a) - 1), PAIRED, p_value)
    difference, low, high = welch_interval(values_a, values_b, confidence)
    return SeedDifference(difference, low, high, welch_dof(values_a, values_b), WELCH, p_value)


def binomial_standard_error(accuracy: float, n_images: int) -> float:
    """Standard error, in points, of an accuracy (%) measured on ``n_images`` test images:
    ``100 · sqrt(p (1 - p) / n)`` with ``p = accuracy / 100`` (largest at 50 %)."""
    if n_images < 1:
        raise ValueError(f"n_images must be positive, got {n_images}")
    p = accuracy / 100
    return 100 * math.sqrt(p * (1 - p) / n_images)
