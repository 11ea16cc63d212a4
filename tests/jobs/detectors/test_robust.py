from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from accountwatch.jobs.detectors.robust import robust_z


def scored(spark, rows):
    frame = spark.createDataFrame(rows, "observed double, expected double, mad double")
    scale, z = robust_z(F.col("observed"), F.col("expected"), F.col("mad"))
    return [(row["scale"], row["z"]) for row in frame.select(scale.alias("scale"), z.alias("z")).collect()]


def test_the_scale_is_the_mad_as_a_sigma_or_the_poisson_root_or_one_whichever_is_largest(spark):
    (wide, poisson, floor) = scored(spark, [(200.0, 100.0, 20.0), (125.0, 100.0, 0.0), (3.0, 0.0, 0.0)])
    assert wide == pytest.approx((29.652, 100.0 / 29.652))
    # A steady baseline (MAD 0) of 100 a day: 25 more is 2.5 Poisson sigmas, not a spike of infinite z.
    assert poisson == (10.0, 2.5)
    # An account with no baseline at all: three events are three, not a division by zero.
    assert floor == (1.0, 3.0)
