"""Every AIS message layout, declared once: field name, width, kind, value conversion, sentinel.

Fields follow each other in declaration order (a field's bit offset is the sum of the widths
before it), as in ITU-R M.1371 and in pyais's declarative tables, whose field names these are
(so a decoded message compares field by field with pyais's). The vectorised decoder
(:mod:`mda.ais.decode`) and the simulator's encoder (:mod:`mda.encode`) both read these.

Binary messages 6 and 8 are declared with their header (DAC, FI) and the application data as
raw bits: the DAC/FI-specific application layouts are not decoded here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: How the bits of a field read: unsigned, signed (two's complement), bool, 6-bit text,
#: raw bits (kept as hexadecimal text), or spare (skipped).
Kind = Literal["u", "i", "b", "t", "x", "spare"]
#: How an integer becomes the field's value: as is (""), float of it ("float"), divided by 10
#: or 100, degrees from 1/10 000 minute ("deg"), 1/10 minute ("deg600"), 1/1000 minute
#: ("deg60000") rounded to 6 decimals, or the rate of turn in degrees a minute ("turn").
Conv = Literal["", "float", "tenth", "hundredth", "deg", "deg600", "deg60000", "turn"]


@dataclass(frozen=True)
class Field:
    """One field of a message layout.

    `na` is the raw value AIS sends for "not available"; `limit` the largest raw value that is
    a real reading (of its magnitude, for signed fields), when values above it are all
    "not available" or reserved. See :func:`mda.ais.facts.available`.
    """

    name: str
    width: int
    kind: Kind = "u"
    conv: Conv = ""
    na: int | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Layout:
    """The fields of one message type (or one variant of it, such as type 24 part A)."""

    name: str
    msg_type: int
    fields: tuple[Field, ...]
    offsets: dict[str, int] = field(init=False, repr=False, compare=False)
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        offsets, at = {}, 0
        for f in self.fields:
            offsets[f.name] = at
            at += f.width
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def bits(self) -> int:
        """Bits of the whole layout (variable-length data fields at their longest)."""
        return sum(f.width for f in self.fields)

    def span(self, name: str) -> tuple[int, int]:
        """(bit offset, width) of field `name`."""
        return self.offsets[name], self.by_name[name].width


def _u(name: str, width: int, na: int | None = None, limit: int | None = None) -> Field:
    return Field(name, width, "u", "", na, limit)


def _f(
    name: str,
    width: int,
    conv: Conv,
    *,
    signed: bool = False,
    na: int | None = None,
    limit: int | None = None,
) -> Field:
    return Field(name, width, "i" if signed else "u", conv, na, limit)


def _b(name: str) -> Field:
    return Field(name, 1, "b")


def _t(name: str, width: int) -> Field:
    return Field(name, width, "t")


def _x(name: str, width: int) -> Field:
    return Field(name, width, "x")


def _spare(name: str, width: int) -> Field:
    return Field(name, width, "spare")


#: Raw units of a full-resolution position per degree (1/10 000 minute).
DEG = 600_000
#: Sentinels of the common fields (raw values): speed 102.3 kn, longitude 181, latitude 91,
#: course 360, heading 511, second 60; ranges of real readings below them.
SPEED_NA, LON_NA, LAT_NA, COURSE_NA, HEADING_NA = 1023, 181 * DEG, 91 * DEG, 3600, 511
#: Rate of turn when no turn information is available.
TURN_NA = -128
_HEAD = (_u("msg_type", 6), _u("repeat", 2), _u("mmsi", 30))
_SPEED = _f("speed", 10, "tenth", na=SPEED_NA, limit=SPEED_NA - 1)
_LON = _f("lon", 28, "deg", signed=True, na=LON_NA, limit=180 * DEG)
_LAT = _f("lat", 27, "deg", signed=True, na=LAT_NA, limit=90 * DEG)
_COURSE = _f("course", 12, "tenth", na=COURSE_NA, limit=COURSE_NA - 1)
_HEADING = _u("heading", 9, na=HEADING_NA, limit=359)
_SECOND = _u("second", 6, na=60, limit=59)
#: Speed to second: the same fields in Class A (1-3) and Class B (18, 19) position reports.
_MOTION = (_SPEED, _b("accuracy"), _LON, _LAT, _COURSE, _HEADING, _SECOND)
_DIMS = (_u("to_bow", 9), _u("to_stern", 9), _u("to_port", 6), _u("to_starboard", 6))
_BOX = (
    _f("ne_lon", 18, "tenth", signed=True),
    _f("ne_lat", 17, "tenth", signed=True),
    _f("sw_lon", 18, "tenth", signed=True),
    _f("sw_lat", 17, "tenth", signed=True),
)
_MMSI_LIST = tuple(f for k in range(1, 5) for f in (_u(f"mmsi{k}", 30), _u(f"mmsiseq{k}", 2)))


def _position_a(mt: int) -> Layout:
    return Layout(
        str(mt),
        mt,
        (
            *_HEAD,
            _u("status", 4),
            _f("turn", 8, "turn", signed=True, na=TURN_NA),
            *_MOTION,
            _u("maneuver", 2),
            _spare("spare_1", 3),
            _b("raim"),
            _u("radio", 19),
        ),
    )


def _base_station(mt: int) -> Layout:
    return Layout(
        str(mt),
        mt,
        (
            *_HEAD,
            _u("year", 14, na=0),
            _u("month", 4, na=0),
            _u("day", 5, na=0),
            _u("hour", 5, na=24),
            _u("minute", 6, na=60),
            _u("second", 6, na=60),
            _b("accuracy"),
            _LON,
            _LAT,
            _u("epfd", 4),
            _spare("spare_1", 10),
            _b("raim"),
            _u("radio", 19),
        ),
    )


def _acknowledge(mt: int) -> Layout:
    return Layout(str(mt), mt, (*_HEAD, _spare("spare_1", 2), *_MMSI_LIST))


def _binary_25(name: str, addressed: bool, structured: bool, data: int) -> Layout:
    dest = (_u("dest_mmsi", 30),) if addressed else ()
    app = (_u("app_id", 16),) if structured else ()
    return Layout(
        name, 25, (*_HEAD, _b("addressed"), _b("structured"), *dest, *app, _x("data", data))
    )


def _binary_26(name: str, addressed: bool, app_id: bool, data: int) -> Layout:
    dest = (_u("dest_mmsi", 30),) if addressed else ()
    app = (_u("app_id", 16),) if app_id else ()
    return Layout(
        name,
        26,
        (
            *_HEAD,
            _b("addressed"),
            _b("structured"),
            *dest,
            *app,
            _x("data", data),
            _u("radio", 20),
        ),
    )


def _channel_management(name: str, area: tuple[Field, ...]) -> Layout:
    """Type 22: channels for two addressed stations or for a rectangular area."""
    return Layout(
        name,
        22,
        (
            *_HEAD,
            _spare("spare_1", 2),
            _u("channel_a", 12),
            _u("channel_b", 12),
            _u("txrx", 4),
            _b("power"),
            *area,
            _b("addressed"),
            _b("band_a"),
            _b("band_b"),
            _u("zonesize", 3),
            _spare("spare_2", 23),
        ),
    )


_CLASS_B_POSITION = (*_HEAD, _u("reserved_1", 8), *_MOTION)
_24_HEAD = (*_HEAD, _u("partno", 2))
_24_B = (*_24_HEAD, _u("ship_type", 8), _t("vendorid", 18), _u("model", 4), _u("serial", 20))

_ALL = (
    _position_a(1),
    _position_a(2),
    _position_a(3),
    _base_station(4),
    Layout(
        "5",
        5,
        (
            *_HEAD,
            _u("ais_version", 2),
            _u("imo", 30, na=0),
            _t("callsign", 42),
            _t("shipname", 120),
            _u("ship_type", 8, na=0),
            *_DIMS,
            _u("epfd", 4),
            _u("month", 4),
            _u("day", 5),
            _u("hour", 5),
            _u("minute", 6),
            _f("draught", 8, "tenth", na=0),
            _t("destination", 120),
            _b("dte"),
            _spare("spare_1", 1),
        ),
    ),
    Layout(
        "6",
        6,
        (
            *_HEAD,
            _u("seqno", 2),
            _u("dest_mmsi", 30),
            _b("retransmit"),
            _spare("spare_1", 1),
            _u("dac", 10),
            _u("fid", 6),
            _x("data", 920),
        ),
    ),
    _acknowledge(7),
    Layout(
        "8",
        8,
        (*_HEAD, _spare("spare_1", 2), _u("dac", 10), _u("fid", 6), _x("data", 952)),
    ),
    Layout(
        "9",
        9,
        (
            *_HEAD,
            _u("alt", 12, na=4095),
            _f("speed", 10, "float", na=SPEED_NA),
            _b("accuracy"),
            _LON,
            _LAT,
            _COURSE,
            _SECOND,
            _u("reserved_1", 8),
            _b("dte"),
            _spare("spare_1", 3),
            _b("assigned"),
            _b("raim"),
            _u("radio", 20),
        ),
    ),
    Layout("10", 10, (*_HEAD, _spare("spare_1", 2), _u("dest_mmsi", 30), _spare("spare_2", 2))),
    _base_station(11),
    Layout(
        "12",
        12,
        (
            *_HEAD,
            _u("seqno", 2),
            _u("dest_mmsi", 30),
            _b("retransmit"),
            _spare("spare_1", 1),
            _t("text", 936),
        ),
    ),
    _acknowledge(13),
    Layout("14", 14, (*_HEAD, _spare("spare_1", 2), _t("text", 968))),
    Layout(
        "15",
        15,
        (
            *_HEAD,
            _spare("spare_1", 2),
            _u("mmsi1", 30),
            _u("type1_1", 6),
            _u("offset1_1", 12),
            _spare("spare_2", 2),
            _u("type1_2", 6),
            _u("offset1_2", 12),
            _spare("spare_3", 2),
            _u("mmsi2", 30),
            _u("type2_1", 6),
            _u("offset2_1", 12),
            _spare("spare_4", 2),
        ),
    ),
    Layout(
        "16A",
        16,
        (
            *_HEAD,
            _spare("spare_1", 2),
            _u("mmsi1", 30),
            _u("offset1", 12),
            _u("increment1", 10),
            _spare("spare_2", 4),
        ),
    ),
    Layout(
        "16AB",
        16,
        (
            *_HEAD,
            _spare("spare_1", 2),
            _u("mmsi1", 30),
            _u("offset1", 12),
            _u("increment1", 10),
            _u("mmsi2", 30),
            _u("offset2", 12),
            _u("increment2", 10),
        ),
    ),
    Layout(
        "17",
        17,
        (
            *_HEAD,
            _spare("spare_1", 2),
            _f("lon", 18, "tenth"),
            _f("lat", 17, "tenth"),
            _spare("spare_2", 5),
            _x("data", 736),
        ),
    ),
    Layout(
        "18",
        18,
        (
            *_CLASS_B_POSITION,
            _u("reserved_2", 2),
            _b("cs"),
            _b("display"),
            _b("dsc"),
            _b("band"),
            _b("msg22"),
            _b("assigned"),
            _b("raim"),
            _u("radio", 20),
        ),
    ),
    Layout(
        "19",
        19,
        (
            *_CLASS_B_POSITION,
            _u("reserved_2", 4),
            _t("shipname", 120),
            _u("ship_type", 8, na=0),
            *_DIMS,
            _u("epfd", 4),
            _b("raim"),
            _b("dte"),
            _b("assigned"),
            _spare("spare_1", 4),
        ),
    ),
    Layout(
        "20",
        20,
        (
            *_HEAD,
            _spare("spare_1", 2),
            *(
                f
                for k in range(1, 5)
                for f in (
                    _u(f"offset{k}", 12),
                    _u(f"number{k}", 4),
                    _u(f"timeout{k}", 3),
                    _u(f"increment{k}", 11),
                )
            ),
        ),
    ),
    Layout(
        "21",
        21,
        (
            *_HEAD,
            _u("aid_type", 5),
            _t("name", 120),
            _b("accuracy"),
            _LON,
            _LAT,
            *_DIMS,
            _u("epfd", 4),
            _SECOND,
            _b("off_position"),
            _u("reserved_1", 8),
            _b("raim"),
            _b("virtual_aid"),
            _b("assigned"),
            _spare("spare_1", 1),
            _t("name_ext", 88),
        ),
    ),
    _channel_management(
        "22addressed",
        (_u("dest1", 30), _u("empty_1", 5), _u("dest2", 30), _u("empty_2", 5)),
    ),
    _channel_management("22broadcast", _BOX),
    Layout(
        "23",
        23,
        (
            *_HEAD,
            _spare("spare_1", 2),
            *_BOX,
            _u("station_type", 4),
            _u("ship_type", 8),
            _spare("spare_2", 22),
            _u("txrx", 2),
            _u("interval", 4),
            _u("quiet", 4),
            _spare("spare_3", 6),
        ),
    ),
    Layout("24A", 24, (*_24_HEAD, _t("shipname", 120), _spare("spare_1", 8))),
    Layout("24B", 24, (*_24_B, _t("callsign", 42), *_DIMS, _spare("spare_1", 6))),
    Layout(
        "24Baux",
        24,
        (*_24_B, _t("callsign", 42), _u("mothership_mmsi", 30), _spare("spare_1", 6)),
    ),
    _binary_25("25addressed_structured", True, True, 82),
    _binary_25("25broadcast_structured", False, True, 112),
    _binary_25("25addressed_unstructured", True, False, 98),
    _binary_25("25broadcast_unstructured", False, False, 128),
    # pyais reads an application id in addressed unstructured type 26 too; kept for equality
    _binary_26("26addressed_structured", True, True, 958),
    _binary_26("26broadcast_structured", False, True, 988),
    _binary_26("26addressed_unstructured", True, True, 958),
    _binary_26("26broadcast_unstructured", False, False, 1004),
    Layout(
        "27",
        27,
        (
            *_HEAD,
            _b("accuracy"),
            _b("raim"),
            _u("status", 4),
            _f("lon", 18, "deg600", signed=True, na=181 * 600, limit=180 * 600),
            _f("lat", 17, "deg600", signed=True, na=91 * 600, limit=90 * 600),
            _f("speed", 6, "float", na=63, limit=62),
            _f("course", 9, "float", na=511, limit=359),
            _b("gnss"),
            _spare("spare_1", 1),
        ),
    ),
)

#: Every layout by name ("1" ... "27", with variants such as "24A", "24B", "22addressed").
LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in _ALL}
#: The layouts of each message type (several where the type has variants).
BY_TYPE: dict[int, tuple[Layout, ...]] = {
    mt: tuple(lo for lo in _ALL if lo.msg_type == mt) for mt in range(1, 28)
}
