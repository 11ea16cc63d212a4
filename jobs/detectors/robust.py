"""The robust baseline every counting detector shares: a median, its MAD and the z of a day against them."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

# Scale of a normal distribution's standard deviation to its median absolute deviation.
MAD_TO_SIGMA = 1.4826


def robust_z(observed: Column, expected: Column, mad: Column) -> tuple[Column, Column]:
    """The scale and the robust z of `observed` against the median `expected` and its `mad`.

    The scale is 1.4826 MAD, at least the Poisson sqrt of `expected` and at least 1, so a perfectly steady
    baseline (MAD 0) does not turn one extra event into a spike.
    """
    scale = F.greatest(F.lit(MAD_TO_SIGMA) * mad, F.sqrt(expected), F.lit(1.0))
    return scale, (observed - expected) / scale
