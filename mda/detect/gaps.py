"""Placeholder: filled in by the detector work (issue 5)."""

from __future__ import annotations

import pandas as pd

from mda import schema
from mda.config import Config
from mda.detect.base import Context


def detect(ctx: Context, cfg: Config) -> pd.DataFrame:
    """No alerts yet."""
    return schema.empty(schema.ALERTS)
