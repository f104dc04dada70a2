"""AIS facts in one place: message layouts, navigational status, type groups, "not available"
sentinels, MMSI/MID rules, and the vectorised payload decoder that reads the layouts.

Spherical geometry (nautical miles, bearings) is mda.geo's."""

from mda.ais.decode import Batch, Decoded, decode, message_types
from mda.ais.facts import (
    ALL_TYPES,
    AUX_TYPES,
    BINARY_TYPES,
    CLASS_B_TYPES,
    LONG_RANGE_TYPE,
    POSITION_BITS,
    POSITION_TYPES,
    STATIC_TYPES,
    NavStatus,
    available,
    not_available_to_nan,
    reported_utc,
)
from mda.ais.layouts import (
    BY_TYPE,
    COURSE_NA,
    DEG,
    HEADING_NA,
    LAT_NA,
    LAYOUTS,
    LON_NA,
    SPEED_NA,
    TURN_NA,
    Field,
    Layout,
)
from mda.ais.mmsi import (
    ALLOCATED_MIDS,
    MAX_MMSI,
    MID_COUNTRY,
    flag_of,
    is_auxiliary_craft,
    valid_mmsi,
)

__all__ = [
    "ALLOCATED_MIDS",
    "ALL_TYPES",
    "AUX_TYPES",
    "BINARY_TYPES",
    "BY_TYPE",
    "CLASS_B_TYPES",
    "COURSE_NA",
    "DEG",
    "HEADING_NA",
    "LAT_NA",
    "LAYOUTS",
    "LONG_RANGE_TYPE",
    "LON_NA",
    "MAX_MMSI",
    "MID_COUNTRY",
    "POSITION_BITS",
    "POSITION_TYPES",
    "SPEED_NA",
    "STATIC_TYPES",
    "TURN_NA",
    "Batch",
    "Decoded",
    "Field",
    "Layout",
    "NavStatus",
    "available",
    "decode",
    "flag_of",
    "is_auxiliary_craft",
    "message_types",
    "not_available_to_nan",
    "reported_utc",
    "valid_mmsi",
]
