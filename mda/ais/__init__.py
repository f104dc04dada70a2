"""AIS facts in one place: message layouts, navigational status, type groups, "not available"
sentinels, MMSI/MID rules, and the vectorised payload decoder that reads the layouts."""

from mda.ais.decode import Batch, Decoded, decode, message_types
from mda.ais.facts import (
    ALL_TYPES,
    AUX_TYPES,
    BINARY_TYPES,
    CLASS_B_TYPES,
    KNOT_MS,
    LONG_RANGE_TYPE,
    POSITION_BITS,
    POSITION_TYPES,
    STATIC_TYPES,
    NavStatus,
    available,
    not_available_to_nan,
    wrap180,
)
from mda.ais.layouts import BY_TYPE, LAYOUTS, Field, Layout
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
    "KNOT_MS",
    "LAYOUTS",
    "LONG_RANGE_TYPE",
    "MAX_MMSI",
    "MID_COUNTRY",
    "POSITION_BITS",
    "POSITION_TYPES",
    "STATIC_TYPES",
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
    "valid_mmsi",
    "wrap180",
]
