"""Significance tests and intervals for the counts and rates a report compares (scipy).

* **Counts** (contacts in two periods of the same length): conditional exact test. Under "no change", the current
  count of the ``current + previous`` contacts is Binomial(total, 1/2); the p-value is the two-sided binomial test and
  the interval of the rate ratio comes from the Clopper-Pearson interval of that proportion.
* **Rates** (deflected / settled, satisfied / responses, met / decided deadlines): the difference of two proportions
  with Newcombe's hybrid score interval (from two Wilson intervals); the p-value is the pooled two-proportion z-test,
  or Fisher's exact test when an expected cell is under 5.
* **Many tests at once** (every driver, every metric): Benjamini-Hochberg adjusted p-values (``q``), so that about
  5 % of the changes a report states at ``q < 0.05`` are noise, however many drivers it looks at.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import binomtest, false_discovery_control, fisher_exact, norm

__all__ = ["CONFIDENCE", "CountTest", "RateTest", "adjust", "count_test", "rate_test", "wilson"]

CONFIDENCE = 0.95
"""Confidence of every interval a report shows (and 1 - the false discovery rate of the changes it states)."""


def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 + confidence / 2))


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Wilson score interval of the proportion ``successes / n``; ``None`` when ``n`` is 0."""
    if n <= 0:
        return None
    z = _z(confidence)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class CountTest:
    """Two counts over equal exposures: the ratio ``current / previous`` with its interval, and the p-value."""

    current: int
    previous: int
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None
    p_value: float

    @property
    def change(self) -> float | None:
        """Relative change ``current / previous - 1`` (``None`` when there was nothing before)."""
        return None if self.ratio is None else self.ratio - 1


def count_test(current: int, previous: int, confidence: float = CONFIDENCE) -> CountTest:
    """Test whether ``current`` and ``previous`` (counts over periods of the same length) differ."""
    total = current + previous
    if total == 0:
        return CountTest(current, previous, None, None, None, 1.0)
    result = binomtest(current, total, 0.5)
    ci = result.proportion_ci(confidence_level=confidence, method="exact")
    low, high = float(ci.low), float(ci.high)

    def odds(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p)

    ratio = current / previous if previous else None
    return CountTest(current, previous, ratio, odds(low), odds(high), float(result.pvalue))


@dataclass(frozen=True, slots=True)
class RateTest:
    """Two proportions: the difference ``current - previous`` (fraction points) with its interval and p-value."""

    current: float | None
    previous: float | None
    current_n: int
    previous_n: int
    difference: float | None
    low: float | None
    high: float | None
    p_value: float


def rate_test(successes: int, n: int, prev_successes: int, prev_n: int, confidence: float = CONFIDENCE) -> RateTest:
    """Test whether the proportion ``successes / n`` differs from ``prev_successes / prev_n``."""
    now_ci, before_ci = wilson(successes, n, confidence), wilson(prev_successes, prev_n, confidence)
    p1 = successes / n if n else None
    p0 = prev_successes / prev_n if prev_n else None
    if now_ci is None or before_ci is None or p1 is None or p0 is None:
        return RateTest(p1, p0, n, prev_n, None, None, None, 1.0)
    (l1, u1), (l0, u0) = now_ci, before_ci
    diff = p1 - p0
    low = diff - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = diff + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return RateTest(p1, p0, n, prev_n, diff, low, high, _two_proportions(successes, n, prev_successes, prev_n))


def _two_proportions(k1: int, n1: int, k0: int, n0: int) -> float:
    pooled = (k1 + k0) / (n1 + n0)
    expected = (n1 * pooled, n1 * (1 - pooled), n0 * pooled, n0 * (1 - pooled))
    if min(expected) < 5:
        return float(fisher_exact([[k1, n1 - k1], [k0, n0 - k0]]).pvalue)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    if se == 0:
        return 1.0
    return float(2 * norm.sf(abs(k1 / n1 - k0 / n0) / se))


def adjust(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the same order."""
    if not p_values:
        return []
    return [float(q) for q in false_discovery_control(list(p_values), method="bh")]
