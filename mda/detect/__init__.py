"""Detector registry: every anomaly family by name, and :func:`detect_all` that runs them.

Each family is a module with a pure ``detect(ctx, cfg) -> alerts`` (schema.ALERTS); a module that
emits more than one alert type lists them in ``TYPES`` so ``only=`` can name a type or a family.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterable

import pandas as pd

from mda import schema
from mda.config import Config
from mda.detect import drag, dwell, encounter, gaps, identity, jumps, watchlist, zones
from mda.detect.base import Context
from mda.errors import MdaError

Detector = Callable[[Context, Config], pd.DataFrame]

#: Family name -> detect function. Other detector modules add themselves with one line each.
DETECTORS: dict[str, Detector] = {
    "ais_gap": gaps.detect,
    "dwell": dwell.detect,
    "anchor_drag": drag.detect,
    "position_jump": jumps.detect,
    "zones": zones.detect,
    "encounter": encounter.detect,
    "identity_conflict": identity.detect,
    "watchlist": watchlist.detect,
}


def family_types(name: str) -> tuple[str, ...]:
    """Alert types a family emits: its module's TYPES, else the family name itself."""
    fn = DETECTORS[name]
    return tuple(getattr(sys.modules.get(fn.__module__), "TYPES", (name,)))


def detect_all(ctx: Context, cfg: Config, *, only: Iterable[str] | None = None) -> pd.DataFrame:
    """Run the detectors (all, or the families / alert types named in `only`), alerts by start.

    Unknown names in `only` raise MdaError so a typo never silently runs nothing.
    """
    wanted = None if only is None else set(only)
    if wanted is not None:
        known = set(DETECTORS) | {t for n in DETECTORS for t in family_types(n)}
        unknown = sorted(wanted - known)
        if unknown:
            raise MdaError(
                f"unknown detector {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
    frames = []
    for name, fn in DETECTORS.items():
        types = set(family_types(name))
        if wanted is not None and name not in wanted and not types & wanted:
            continue
        alerts = fn(ctx, cfg)
        if wanted is not None and name not in wanted:
            alerts = alerts[alerts["type"].isin(wanted)]
        frames.append(alerts)
    frames = [f for f in frames if len(f)]
    if not frames:
        return schema.empty(schema.ALERTS)
    out = apply_severity(pd.concat(frames, ignore_index=True), cfg)
    return out.sort_values(["start", "type", "mmsi"], kind="stable", ignore_index=True)


def apply_severity(alerts: pd.DataFrame, cfg: Config) -> pd.DataFrame:
    """The ``[severity]`` policy set on `alerts`: an identity_conflict sub-case's key first,
    then the alert type's. An alert it changes records the value in its thresholds
    (``severity_policy``), so a reader sees why its severity is not the detector's."""
    policy = {k: v for k, v in dataclasses.asdict(cfg.severity).items() if v}
    if not policy or alerts.empty:
        return alerts
    subtype = pd.Series(
        [
            schema.alert_subtype(t, e)
            for t, e in zip(alerts["type"], alerts["evidence"], strict=True)
        ],
        index=alerts.index,
        dtype="object",
    )
    wanted = subtype.map(policy).fillna(alerts["type"].map(policy))
    hit = wanted.notna() & (wanted != alerts["severity"])
    if not hit.any():
        return alerts
    out = alerts.copy()
    out.loc[hit, "severity"] = wanted[hit]
    out.loc[hit, "thresholds"] = [
        {**(t if isinstance(t, dict) else {}), "severity_policy": v}
        for t, v in zip(out.loc[hit, "thresholds"], wanted[hit], strict=True)
    ]
    return out
