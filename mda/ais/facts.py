"""AIS facts that decide results: navigational status, message-type groups, "not available".

The sentinels themselves are declared with each field in :mod:`mda.ais.layouts`
(``Field.na``, ``Field.limit``); :func:`available` is the one rule that applies them.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from mda.ais.decode import convert
from mda.ais.layouts import Field


class NavStatus(IntEnum):
    """Navigational status of a position report (ITU-R M.1371, types 1-3 and 27)."""

    UNDER_WAY_USING_ENGINE = 0
    AT_ANCHOR = 1
    NOT_UNDER_COMMAND = 2
    RESTRICTED_MANOEUVRABILITY = 3
    CONSTRAINED_BY_DRAUGHT = 4
    MOORED = 5
    AGROUND = 6
    ENGAGED_IN_FISHING = 7
    UNDER_WAY_SAILING = 8
    RESERVED_HSC = 9
    RESERVED_WIG = 10
    TOWING_ASTERN = 11
    PUSHING_AHEAD = 12
    RESERVED = 13
    AIS_SART = 14
    NOT_DEFINED = 15  # also what mda stores for Class B, which sends no status


#: Vessel position reports: Class A (1-3), Class B (18, 19), long-range (27).
POSITION_TYPES = (1, 2, 3, 18, 19, 27)
#: Positions of what is not a vessel: base stations (4), SAR aircraft (9), aids to navigation (21).
AUX_TYPES = (4, 9, 21)
#: Static and voyage data: Class A (5), Class B extended (19), Class B static (24, parts A and B).
STATIC_TYPES = (5, 19, 24)
#: Binary messages kept with their application id: addressed (6) and broadcast (8).
BINARY_TYPES = (6, 8)
#: Class B position reports (no navigational status).
CLASS_B_TYPES = (18, 19)
#: Long-range broadcast (27): coarse position, speed and course (see its layout).
LONG_RANGE_TYPE = 27
#: Message types 1-27 (pyais also reads 0 as type 1 and a non-standard 28; mda does not).
ALL_TYPES = tuple(range(1, 28))

#: Bits a message needs to hold the position fields mda reads (up to the heading, course or
#: latitude): a shorter payload would decode to partial, wrong values, or to nothing.
POSITION_BITS = {1: 137, 2: 137, 3: 137, 4: 134, 9: 128, 18: 133, 19: 133, 21: 219, 27: 94}


def available(f: Field, value: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Where a decoded field holds a real reading: not its "not available" value and, when the
    field declares one, within its limit (of the magnitude, for signed fields).

    `value` is as :func:`mda.ais.decode.decode` gives it (knots, degrees...): conversions are
    monotone, so comparing converted values is comparing the raw ones.
    """
    ok = np.ones(len(value), bool)
    if f.na is not None:
        ok &= value != convert(f, np.array([f.na]))[0]
    if f.limit is not None:
        ok &= (np.abs(value) if f.kind == "i" else value) <= convert(f, np.array([f.limit]))[0]
    return ok


def not_available_to_nan(f: Field, value: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """The field's values as floats, NaN where AIS says "not available" (see available)."""
    return np.where(available(f, value), value, np.nan)


#: Years a UTC report can be stored in (nanosecond timestamps); others read as not available.
_YEARS = (1678, 2261)


def reported_utc(
    year: npt.NDArray[np.int64],
    month: npt.NDArray[np.int64],
    day: npt.NDArray[np.int64],
    hour: npt.NDArray[np.int64],
    minute: npt.NDArray[np.int64],
    second: npt.NDArray[np.int64],
) -> npt.NDArray[np.datetime64]:
    """UTC a base station (type 4) reports, NaT where not available: year, month or day 0,
    hour 24, minute or second 60 and up, or a day the month does not have (30 February)."""
    ok = (year >= _YEARS[0]) & (year <= _YEARS[1]) & (month >= 1) & (month <= 12) & (day >= 1)
    ok &= (hour < 24) & (minute < 60) & (second < 60)
    months = (np.where(ok, year, 1970) - 1970) * 12 + np.where(ok, month, 1) - 1
    first = months.astype("datetime64[M]")
    date = first.astype("datetime64[D]") + (np.where(ok, day, 1) - 1).astype("timedelta64[D]")
    ok &= date.astype("datetime64[M]") == first
    secs = (hour * 3600 + minute * 60 + second).astype("timedelta64[s]")
    utc = (date.astype("datetime64[s]") + secs).astype("datetime64[ns]")
    out: npt.NDArray[np.datetime64] = np.where(ok, utc, np.datetime64("NaT", "ns"))
    return out
