"""mda.ais: the declared layouts and the vectorised decoder, field by field against pyais.

Every message of every real sample (and of the simulator's output) is decoded both ways and
every field pyais gives is compared. Differences allowed, each by construction:

* coded fields are kept as sent: where pyais maps a code to a member of its enum, the test
  checks that pyais's member is what its own enum makes of mda's code (ship type 57 -> 56);
* binary types 6 and 8 are compared with pyais's default (header + data) layouts: the DAC/FI
  application layouts pyais also reads are not decoded by mda;
* pyais's ``full_name`` of type 21 is a property (name + name_ext), not a field;
* types 0 and 28 (which pyais reads) are not AIS types 1-27 and are not decoded.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pyais
import pytest
from conftest import SHARED
from helpers.nmea import pyais_stream
from pyais import messages as pm
from pyais.bit_vector import bit_vector

from mda import ais
from mda.ais import encode as ais_encode
from mda.ais.layouts import LAYOUTS

NMEA_DIR = SHARED / "nmea"
#: pyais's classes for mda's layouts (6 and 8: the default, header-and-data layouts).
PYAIS_CLASS = {
    "6": pm.MessageType6Default,
    "8": pm.MessageType8Default,
    "16A": pm.MessageType16DestinationA,
    "16AB": pm.MessageType16DestinationAB,
    "22addressed": pm.MessageType22Addressed,
    "22broadcast": pm.MessageType22Broadcast,
    "24A": pm.MessageType24PartA,
    "24B": pm.MessageType24PartB,
    "24Baux": pm.MessageType24PartBAuxiliaryCraft,
    **{
        f"{mt}{a}_{s}": getattr(pm, f"MessageType{mt}{a.title()}{s.title()}")
        for mt in (25, 26)
        for a in ("addressed", "broadcast")
        for s in ("structured", "unstructured")
    },
}


def _pyais_class(name: str) -> type[pm.Payload]:
    return PYAIS_CLASS.get(name) or pm.MSG_CLASS[int(name)]


def messages(path: Path) -> list[tuple[str, int]]:
    """(payload, fill bits) of every message of a file, reassembled by pyais in file order."""
    return [(msg.payload.decode("ascii"), msg.fill_bits) for msg in pyais_stream(path)]


def _mine(batch: ais.Batch, j: int, name: str) -> Any:
    if not batch.present[name][j]:
        return None
    v = batch.values[name][j]
    return v.as_py() if hasattr(v, "as_py") else v.item()


def _same(theirs: Any, mine: Any) -> bool:
    if isinstance(theirs, bytes):
        return theirs.hex() == mine
    if isinstance(theirs, Enum) and not isinstance(theirs, float) and mine is not None:
        return type(theirs).from_value(mine) == theirs  # a code kept as sent
    if isinstance(theirs, bool) or isinstance(mine, bool):
        return theirs is mine
    return bool(theirs == mine)


def compare(payloads: list[tuple[str, int]]) -> tuple[dict[str, int], list[str]]:
    """Messages compared per layout, and every difference found (empty when all agree)."""
    decoded = ais.decode([p for p, _ in payloads], np.array([f for _, f in payloads]))
    seen: dict[str, int] = {}
    diffs: list[str] = []
    in_batch = np.zeros(len(payloads), bool)
    for name, batch in decoded.batches.items():
        in_batch[batch.rows] = True
        seen[name] = len(batch.rows)
        cls = _pyais_class(name)
        for j, r in enumerate(batch.rows.tolist()):
            payload, fill = payloads[r]
            theirs = cls.from_vector(bit_vector(payload.encode(), fill)).asdict()
            theirs.pop("full_name", None)
            for field, value in theirs.items():
                mine = _mine(batch, j, field)
                if not _same(value, mine):
                    diffs.append(f"{name} {payload},{fill} {field}: pyais {value!r}, mda {mine!r}")
    for r in np.flatnonzero(~in_batch).tolist():  # no layout: pyais must refuse it too
        payload, fill = payloads[r]
        mt = int(decoded.msg_type[r])
        if mt in ais.ALL_TYPES:
            try:
                pm.MSG_CLASS[mt].from_vector(bit_vector(payload.encode(), fill))
                diffs.append(f"{payload},{fill}: pyais decodes it, mda does not")
            except Exception:  # pyais refuses it as well: what is asserted
                pass
    return seen, diffs


SAMPLES = sorted(p for p in NMEA_DIR.rglob("*") if p.is_file()) if NMEA_DIR.is_dir() else []


@pytest.mark.skipif(not SAMPLES, reason=f"real public samples not found under {NMEA_DIR}")
def test_every_sample_message_equals_pyais_field_by_field():
    payloads = [m for p in SAMPLES for m in messages(p)]
    seen, diffs = compare(payloads)
    assert not diffs, "\n".join(diffs[:20])
    assert sum(seen.values()) > 70_000
    # the samples hold most types, variable-length binary and multi-part messages among them
    assert {"1", "4", "5", "6", "8", "9", "18", "19", "21", "24A", "24B", "27"} <= set(seen)


def test_simulator_output_equals_pyais_field_by_field(tmp_path):
    from mda.simulate import simulate

    path = simulate("korea-strait", seed=5, vessels=30).write(tmp_path / "t.nmea")
    payloads = messages(path)
    seen, diffs = compare(payloads)
    assert not diffs, "\n".join(diffs[:20])
    assert {"1", "5", "18", "24A", "24B"} <= set(seen) and sum(seen.values()) > 1000


def _encoded(**fields: Any) -> tuple[str, int]:
    line = pyais.encode_dict(fields, talker_id="AI")
    assert len(line) == 1
    parts = line[0].split(",")
    return parts[5], int(parts[6][0])


def test_every_layout_round_trips_pyais_encoder_with_short_and_cut_messages():
    """One message of every layout, then each cut to every length (fill bits dropped)."""
    samples = [
        _encoded(msg_type=1, mmsi=211_000_001, status=5, turn=-12, speed=12.3, lon=-4.5,
                 lat=51.25, course=359.9, heading=511),
        _encoded(msg_type=4, mmsi=2_190_048, year=2024, month=2, day=29, hour=23, minute=59,
                 second=60, lon=12.5, lat=55.7),
        _encoded(msg_type=9, mmsi=111_219_000, alt=4095, speed=1023, lon=10.0, lat=-80.5),
        _encoded(msg_type=17, mmsi=2_734_450, lon=1747.8, lat=3599.2, data=b"\x7c\x05\xe2"),
        _encoded(msg_type=22, mmsi=3_160_048, addressed=True, dest1=28_144_881, dest2=0),
        _encoded(msg_type=22, mmsi=3_160_048, ne_lon=-7710, ne_lat=3300, sw_lon=-8000, sw_lat=300),
        _encoded(msg_type=24, mmsi=983_456_789, partno=1, ship_type=57, callsign="ABC",
                 mothership_mmsi=219_000_001),
        _encoded(msg_type=25, mmsi=440_006_460, addressed=True, structured=True,
                 dest_mmsi=134_218_384, app_id=45, data=b"\x01\x02"),
        _encoded(msg_type=26, mmsi=0, addressed=False, structured=False, data=b"\xff" * 5),
        _encoded(msg_type=27, mmsi=206_914_217, status=15, lon=137.02333, lat=4.84, speed=57,
                 course=167),
    ]  # fmt: skip
    cut = [(p[:k], 0) for p, _ in samples for k in range(1, len(p))]
    seen, diffs = compare(samples + cut)
    assert not diffs, "\n".join(diffs[:20])
    assert {"1", "4", "9", "17", "22addressed", "22broadcast", "24Baux", "27"} <= set(seen)


def test_layouts_declare_pyais_offsets_widths_and_signs():
    for name, layout in LAYOUTS.items():
        plan = _pyais_class(name).decoder_plan()
        theirs = [(f, off, width, signed) for f, off, width, signed, _, _ in plan]
        mine = [(f.name, layout.offsets[f.name], f.width, f.kind == "i") for f in layout.fields]
        assert mine == theirs, name


def test_not_available_rule_on_decoded_values():
    speed = LAYOUTS["1"].by_name["speed"]
    assert ais.available(speed, np.array([0.0, 102.2, 102.3])).tolist() == [True, True, False]
    course27 = LAYOUTS["27"].by_name["course"]
    assert ais.available(course27, np.array([359.0, 360.0, 511.0])).tolist() == [1, 0, 0]
    lat = LAYOUTS["18"].by_name["lat"]
    assert ais.available(lat, np.array([-90.0, 90.0, 91.0])).tolist() == [True, True, False]
    assert np.isnan(ais.not_available_to_nan(LAYOUTS["1"].by_name["heading"], np.array([511]))[0])


def test_empty_and_garbage_payloads_decode_to_nothing():
    d = ais.decode(["", "0", "w" * 10, "1"], np.array([0, 0, 0, 5]))
    assert d.msg_type.tolist() == [-1, 0, 63, 1]
    assert [b.rows.tolist() for b in d.batches.values()] == [[3]]
    assert not d.batches["1"].present["mmsi"][0]  # 1 bit left: pyais gives mmsi None


def test_reported_utc_is_nat_where_not_available():
    a = np.array
    utc = ais.reported_utc(
        a([2024, 2024, 0, 2023, 9999, 2024]),
        a([2, 2, 1, 2, 1, 13]),
        a([29, 29, 1, 29, 1, 1]),
        a([23, 24, 0, 0, 0, 0]),
        a([59, 0, 0, 0, 0, 0]),
        a([59, 0, 0, 0, 0, 0]),
    )
    assert str(utc[0]) == "2024-02-29T23:59:59.000000000"
    assert np.isnat(utc[1:]).all()  # hour 24, year 0, 29 Feb 2023, year 9999, month 13


def test_buffer_and_offsets_decode_as_strings_do():
    payloads = ["15RTgt0PAso;90TKcjM8h6g208CQ", "", "B52K>;h00Fc>jpUlNV@ikwpUoP06"]
    chars = np.frombuffer("".join(payloads).encode(), np.uint8)
    offsets = np.cumsum([0, *map(len, payloads)])
    a = ais.decode(payloads, np.zeros(3, int))
    b = ais.decode((chars, offsets), np.zeros(3, int))
    assert a.msg_type.tolist() == b.msg_type.tolist() == [1, -1, 18]
    for name in ("1", "18"):
        assert a.batches[name].values["lat"] == b.batches[name].values["lat"]
        assert b.batches[name].values["mmsi"][0] > 0


STATICS = [
    {"msg_type": 5, "mmsi": 440_123_456, "imo": 9_123_456, "callsign": "d7ab", "ais_version": 2,
     "shipname": "HMM ALGECIRAS 2", "ship_type": 70, "to_bow": 300, "to_stern": 99, "to_port": 30,
     "to_starboard": 31, "epfd": 1, "draught": 7.35, "destination": "ROTTERDAM>BUSAN"},
    {"msg_type": 5, "mmsi": np.int64(1), "shipname": "A" * 25, "draught": 0.29},
    {"msg_type": 24, "mmsi": 235_001_002, "partno": 0, "shipname": "sea bird"},
    {"msg_type": 24, "mmsi": 235_001_002, "partno": 1, "ship_type": 37, "callsign": "CALL1",
     "vendorid": "MDA", "to_bow": 5, "to_stern": 6, "to_port": 2, "to_starboard": 3},
    {"msg_type": 24, "mmsi": 983_456_789, "partno": 1, "ship_type": 37, "callsign": "CALL1",
     "vendorid": "MDA", "mothership_mmsi": 219_000_001},
]  # fmt: skip


@pytest.mark.parametrize("msg", STATICS, ids=lambda m: f"{m['msg_type']}-{m.get('partno', '')}")
def test_static_reports_encode_as_pyais_does(msg):
    """Same fragments and fill bits as pyais's encoder (text upper-cased and '@'-padded,
    scaled values truncated), and they decode back."""
    lines = pyais.encode_dict(msg, talker_id="AI", sentence_type="VDM", seq_id=0)
    fields = [line.split(",") for line in lines]
    want = ([f[5] for f in fields], int(fields[-1][6][0]))
    layout = ais_encode.static_layout(msg)
    assert ais_encode.fragments(layout, msg) == want
    text, fill = ais_encode.payload(layout, msg)
    back = ais.decode([text], np.array([fill])).batches[layout.name]
    assert back.values["mmsi"][0] == msg["mmsi"]


def test_text_outside_the_ais_alphabet_is_refused():
    with pytest.raises(ValueError, match="shipname"):
        ais_encode.payload(LAYOUTS["24A"], {"msg_type": 24, "mmsi": 1, "shipname": "CAFÉ"})
