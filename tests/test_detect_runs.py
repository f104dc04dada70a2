"""Run-length helpers shared by the detectors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mda.detect.runs import seconds


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_seconds_whatever_the_time_resolution(unit):
    ts = pd.Series(
        pd.to_datetime(["1970-01-01T00:00:01Z", "2025-03-03T12:00:00.500Z"], format="ISO8601")
    )
    got = seconds(ts.astype(f"datetime64[{unit}, UTC]"))
    want = [1.0, 1741003200.0 if unit == "s" else 1741003200.5]
    assert got == pytest.approx(want, abs=1e-6)
    assert seconds(ts.iloc[:0]).shape == (0,)
    assert isinstance(got, np.ndarray)
