"""NMEA decoding: compared with pyais on the real samples, timestamps, reassembly, sentinels."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pyais
import pytest
from conftest import SHARED, shared_file
from helpers.nmea import pyais_stream
from pyais.bit_vector import bit_vector
from pyais.messages import MSG_CLASS, MessageType6Default, MessageType8Default

from mda import schema
from mda.sources import nmea, read_ais

MSG_CLASS_DEFAULT = {6: MessageType6Default, 8: MessageType8Default}
START = pd.Timestamp("2024-05-30T00:00:00Z")
NMEA_DIR = SHARED / "nmea"
SAMPLES = (
    sorted(str(p.relative_to(SHARED)) for p in NMEA_DIR.rglob("*") if p.is_file())
    if NMEA_DIR.is_dir()
    else ["nmea/missing"]
)

# A real type 1 (gpsd sample) and type 5 (two fragments) used to build synthetic layouts.
T1 = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A"
T5 = (
    "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
    "!AIVDM,2,2,1,A,88888888880,2*25",
)


def lines(*items: str) -> list[str]:
    return list(items)


def sentence(body: str) -> str:
    """A sentence with a correct checksum around `body` (between '!' and '*')."""
    cs = 0
    for ch in body.encode():
        cs ^= ch
    return f"!{body}*{cs:02X}"


def encode(**fields) -> str:
    """One AIS sentence from pyais's encoder."""
    return pyais.encode_dict(fields, talker_id="AI")[0]


def pyais_messages(path) -> list:
    """pyais's own decoding of every valid sentence of a file, fed in file order.

    Messages cut short of the position fields mda reads are left out: pyais decodes the bits
    that are there, so a latitude cut after 2 of its 27 bits comes out as -0.0017, where mda
    counts a decode error (nmea.POSITION_BITS; tests/test_fuzz_regressions.py)."""
    out = []
    for msg in pyais_stream(path):
        try:
            decoded = msg.decode()
        except Exception:
            continue
        bits = len(msg.payload) * 6 - msg.fill_bits
        if bits >= nmea.POSITION_BITS.get(decoded.msg_type, 0):
            out.append(decoded)
    return out


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 6)


def _txt(v: str | None) -> str | None:
    return (v or "").rstrip("@ ") or None


def expected_positions(msgs: list) -> list[tuple]:
    """What the positions table must hold for pyais's messages (sentinels applied)."""
    rows = []
    for m in msgs:
        t = m.msg_type
        if t not in nmea.POSITION_TYPES or not (0 < m.mmsi <= 999_999_999):
            continue
        if m.lat is None or abs(m.lat) > 90 or abs(m.lon) > 180 or m.lat == 91 or m.lon == 181:
            continue
        sog, cog = m.speed, m.course
        heading = getattr(m, "heading", None)
        if t == 27:
            sog, cog = (None if sog == 63 else sog), (None if cog == 511 else cog)
        else:
            sog = None if sog is None or sog > 102.25 else sog
        cog = None if cog is None or cog >= 360 else cog
        heading = None if heading is None or heading > 359 else heading
        status = 15 if t in (18, 19) else int(m.status)
        f32 = lambda v: None if v is None else float(np.float32(v))  # noqa: E731
        rows.append(
            (
                m.mmsi,
                t,
                _num(m.lat),
                _num(m.lon),
                _num(f32(sog)),
                _num(f32(cog)),
                _num(heading),
                status,
            )
        )
    return sorted(rows, key=repr)


def actual_positions(pos: pd.DataFrame) -> list[tuple]:
    cols = ["mmsi", "msg_type", "lat", "lon", "sog", "cog", "heading", "nav_status"]
    rows = [
        (
            int(r[0]),
            int(r[1]),
            _num(r[2]),
            _num(r[3]),
            _num(r[4]),
            _num(r[5]),
            _num(r[6]),
            int(r[7]),
        )
        for r in pos[cols].itertuples(index=False)
    ]
    return sorted(rows, key=repr)


# Files where fragments arrive out of order, repeated, on one line or with different talkers:
# there our reassembly recovers messages that pyais's in-order stream drops (tested below).
REASSEMBLY_DIFFERS = {
    "nmea/dma_aislib_retry_example.txt",
    "nmea/gfw_edge_cases/bad-type5.nmea",
    "nmea/gfw_edge_cases/spire-test.nmea",
    "nmea/dma_aislib_small_cb_example.txt",
}


@pytest.mark.parametrize("rel", SAMPLES)
def test_positions_equal_pyais_on_real_samples(rel):
    path = shared_file(rel)
    data = read_ais(path, start_time=START)
    assert actual_positions(data.positions) == expected_positions(pyais_messages(path))
    assert not data.positions[["lat", "lon"]].isna().any().any()


@pytest.mark.parametrize("rel", SAMPLES)
def test_aux_and_statics_equal_pyais_on_real_samples(rel):
    path = shared_file(rel)
    if rel in REASSEMBLY_DIFFERS:
        pytest.skip("fragments out of order: pyais's in-order stream is not a reference here")
    data = read_ais(path, start_time=START)
    msgs = [m for m in pyais_messages(path) if 0 < m.mmsi <= 999_999_999]
    aux = sorted(
        (m.mmsi, m.msg_type, _num(m.lat), _num(m.lon))
        for m in msgs
        if m.msg_type in nmea.AUX_TYPES
        and abs(m.lat) <= 90
        and abs(m.lon) <= 180
        and m.lat != 91
        and m.lon != 181
    )
    got = sorted(
        (int(r.mmsi), int(r.msg_type), _num(r.lat), _num(r.lon))
        for r in data.aux.itertuples(index=False)
    )
    assert got == aux
    statics = sorted(
        (
            (m.mmsi, _txt(getattr(m, "shipname", None)), _txt(getattr(m, "callsign", None)))
            for m in msgs
            if m.msg_type in nmea.STATIC_TYPES
        ),
        key=repr,
    )
    got_s = sorted(
        (
            (
                int(r.mmsi),
                None if pd.isna(r.name) else r.name,
                None if pd.isna(r.callsign) else r.callsign,
            )
            for r in data.statics.itertuples(index=False)
        ),
        key=repr,
    )
    assert got_s == statics


def test_base_station_clock_is_stored_with_its_position():
    """Type 4's reported UTC goes to aux `clock` (a receiver-health signal); NaT elsewhere."""
    t4 = encode(msg_type=4, mmsi=2190047, year=2024, month=5, day=30, hour=0, minute=0,
                second=9, lat=55.0, lon=12.0)  # fmt: skip
    bad = encode(msg_type=4, mmsi=2190048, year=2024, month=2, day=30, hour=24, minute=60,
                 second=60, lat=55.0, lon=12.0)  # fmt: skip
    aton = encode(msg_type=21, mmsi=993_672_085, name="NORTH CARDINAL", lat=55.1, lon=12.1)
    sar = encode(msg_type=9, mmsi=111_219_502, lat=55.2, lon=12.2, speed=120)
    data = read_ais([t4, bad, aton, sar], start_time=START)
    aux = data.aux.set_index("mmsi")
    assert str(aux["clock"].dtype) == schema.TS
    assert aux.loc[2190047, "clock"] == pd.Timestamp("2024-05-30T00:00:09Z")
    assert pd.isna(aux.loc[2190048, "clock"])  # 30 February, hour 24: not a time
    assert aux.loc[993_672_085, "name"] == "NORTH CARDINAL"
    assert aux["clock"].drop(index=[2190047]).isna().all()
    assert sorted(aux["msg_type"]) == [4, 4, 9, 21]


def test_binary_messages_kept_with_dac_fi_and_data():
    addressed = encode(msg_type=6, mmsi=2_655_619, seqno=1, dest_mmsi=265_538_450, dac=1,
                       fid=0, data=b"\x12\x34\x56")  # fmt: skip
    broadcast = encode(msg_type=8, mmsi=366_999_712, dac=366, fid=56, data=b"\xab\xcd")
    data = read_ais([addressed, broadcast, T1], start_time=START)
    b = data.binary.set_index("msg_type")
    assert list(data.binary.columns) == list(schema.BINARY)
    assert (b.loc[6, "mmsi"], b.loc[6, "dest_mmsi"], b.loc[6, "dac"], b.loc[6, "fi"]) == (
        2_655_619, 265_538_450, 1, 0)  # fmt: skip
    assert b.loc[6, "data"] == "123456"
    assert (b.loc[8, "dac"], b.loc[8, "fi"], b.loc[8, "data"]) == (366, 56, "abcd")
    assert pd.isna(b.loc[8, "dest_mmsi"])
    assert data.report.messages[6] == data.report.messages[8] == 1
    assert len(data.positions) == 1  # binary messages change nothing else


def test_binary_messages_of_the_samples_equal_pyais(shared_data):
    """Every type 6/8 of the samples: mmsi, DAC, FI and data as pyais's default layouts."""
    data = read_ais(shared_data / "nmea", start_time=START)
    assert len(data.binary) > 100
    kinds = {6: MSG_CLASS_DEFAULT[6], 8: MSG_CLASS_DEFAULT[8]}
    want = set()
    for p in sorted(f for f in (shared_data / "nmea").rglob("*") if f.is_file()):
        if str(p.relative_to(SHARED)) in REASSEMBLY_DIFFERS:
            continue
        for msg in pyais_stream(p):
            if msg.ais_id in kinds and len(msg.payload) * 6 - msg.fill_bits > 8:
                m = kinds[msg.ais_id].from_vector(msg.bv)
                if 0 < m.mmsi <= 999_999_999:
                    want.add((m.msg_type, m.mmsi, m.dac, m.fid, m.data.hex() if m.data else None))
    got = {
        (int(r.msg_type), int(r.mmsi), _opt(r.dac), _opt(r.fi), None if pd.isna(r.data) else r.data)
        for r in data.binary.itertuples(index=False)
    }
    assert want <= got


def _opt(v) -> int | None:
    return None if pd.isna(v) else int(v)


def test_gpsd_oracle_values():
    """gpsd_sample.aivdm documents decoded values in comments: check the position reports."""
    text = shared_file("nmea/gpsd_sample.aivdm").read_text("latin-1")
    blocks = re.split(r"\n(?=!)", text)
    checked = 0
    for block in blocks:
        first = block.split("\n", 1)[0]
        fields = first.split(",")
        if not first.startswith("!") or fields[1] != "1" or fields[5][:1] not in "123":
            continue
        lon = re.search(r"longitude:\s*(-?[\d.]+)", block, re.I)
        lat = re.search(r"latitude:\s*(-?[\d.]+)", block, re.I)
        user = re.search(r"UserID:\s*(\d+)", block)
        if not (lon and lat and user) or abs(float(lat.group(1))) > 90:
            continue
        pos = read_ais([first], start_time=START).positions
        assert len(pos) == 1
        assert int(pos["mmsi"].iloc[0]) == int(user.group(1))
        assert pos["lat"].iloc[0] == pytest.approx(float(lat.group(1)), abs=1e-5)
        assert pos["lon"].iloc[0] == pytest.approx(float(lon.group(1)), abs=1e-5)
        checked += 1
    assert checked >= 4


def test_every_kept_message_type_is_decoded(shared_data):
    data = read_ais(shared_data / "nmea", start_time=START)
    for t in (1, 2, 3, 4, 5, 9, 18, 19, 21, 24, 27):
        assert data.report.messages[t] > 0, t
    assert set(data.positions["msg_type"].unique()) >= {1, 2, 3, 18, 19, 27}
    assert set(data.aux["msg_type"].unique()) == {4, 9, 21}
    assert data.aux.loc[data.aux["msg_type"] == 21, "name"].str.len().gt(0).all()


# -- multi-sentence reassembly -----------------------------------------------------------------


def test_part_two_before_part_one_is_reassembled():
    in_order = read_ais([T5[0], T5[1]], start_time=START)
    reordered = read_ais([T5[1], T5[0]], start_time=START)
    assert len(in_order.statics) == 1
    pd.testing.assert_frame_equal(in_order.statics, reordered.statics)
    assert reordered.report.rejected["incomplete_multipart"] == 0
    ref = pyais.decode(*T5)
    assert reordered.statics["name"].iloc[0] == ref.shipname
    assert reordered.statics["destination"].iloc[0] == ref.destination


def test_interleaved_messages_and_lone_fragments():
    a1, a2 = T5
    b = [s.replace(",1,A,", ",7,B,") for s in T5]
    b = [sentence(s[1 : s.index("*")]) for s in b]
    feed = [a1, b[0], T1, a2, b[1], sentence("AIVDM,2,1,3,A,55?MbV02;H;s<Ht,0")]
    data = read_ais(feed, start_time=START)
    assert len(data.statics) == 2
    assert len(data.positions) == 1
    assert data.report.rejected["incomplete_multipart"] == 1


def test_stale_fragment_dropped_after_lag():
    feed = [T5[0]] + [T1] * (nmea.MAX_FRAGMENT_LAG + 5)
    decoder = nmea.NmeaDecoder("x", START)
    first = decoder.decode(feed)
    assert first.report.rejected["incomplete_multipart"] == 1
    second = decoder.decode([T5[1]])  # its sibling is gone: an orphan at the end
    assert len(second.statics) == 0
    assert decoder.close().report.rejected["incomplete_multipart"] == 1


def test_retry_example_missing_fragment_and_interleaved_talkers():
    path = shared_file("nmea/dma_aislib_retry_example.txt")
    data = read_ais(path, start_time=START)
    # BS 3/A and BS 8/B complete; AB 8/B lacks part 2; a repeated BS 3/A part 2 is an orphan.
    assert data.report.rejected["incomplete_multipart"] == 2
    assert data.report.messages[5] == 2
    assert data.report.messages[8] == 1
    raw = path.read_text().splitlines()
    ref = [pyais.decode(raw[0], raw[1]), pyais.decode(raw[2], raw[3])]
    assert sorted(data.statics["mmsi"].tolist()) == sorted(m.mmsi for m in ref)
    assert set(data.statics["name"]) == {m.shipname for m in ref}


def test_two_fragments_on_one_line_with_different_talkers():
    path = shared_file("nmea/gfw_edge_cases/bad-type5.nmea")
    data = read_ais(path)
    assert len(data.statics) == 3
    payloads = [ln for ln in path.read_text().splitlines()[4:] if ln]
    expected = {}
    for p in payloads:
        m = MSG_CLASS[5].from_vector(bit_vector(p.encode(), 2))
        expected[m.mmsi] = m.shipname
    got = dict(zip(data.statics["mmsi"].astype(int), data.statics["name"], strict=True))
    assert got == expected
    # each message is timed by its first fragment's tag block c:
    assert data.statics["ts"].min() == pd.Timestamp(1698785948, unit="s", tz="UTC")


# -- receiver timestamps -----------------------------------------------------------------------


def test_tag_block_times_and_stations():
    path = shared_file("nmea/aisdb_test_data_20211101.nm4")
    data = read_ais(path)
    assert data.report.rejected["no_timestamp"] == 0
    assert data.report.first_ts == pd.Timestamp("2021-11-01 01:58:07", tz="UTC")
    assert data.report.last_ts == pd.Timestamp("2021-11-01 01:59:06", tz="UTC")
    first = path.read_text().splitlines()[0]
    station = re.search(r"s:([^,]+)", first).group(1)
    assert station in set(data.positions["station"]) | set(data.aux["mmsi"].astype(str))
    assert (data.positions["station"] != "").all()
    assert (data.positions["msg_type"] == 27).sum() > 100


def test_tag_block_group_with_time_on_first_fragment_only():
    data = read_ais(shared_file("nmea/gfw_edge_cases/ee-multiline.nmea"))
    assert len(data.statics) == 2
    assert pd.Timestamp(1661782369, unit="s", tz="UTC") in set(data.statics["ts"])
    assert data.report.rejected["incomplete_multipart"] == 0
    data = read_ais(shared_file("nmea/libais_tagblock.nmea"))
    assert len(data.statics) == 1 and len(data.positions) == 3
    assert data.statics["ts"].iloc[0] == pd.Timestamp(1418169601, unit="s", tz="UTC")
    assert set(data.positions["station"]) == {"rORBCOMM104", "rORBCOMM007"}


def test_tag_block_time_in_milliseconds():
    data = read_ais(shared_file("nmea/gfw_edge_cases/sample.nmea"))
    assert data.report.first_ts == pd.Timestamp(1599239526500, unit="ms", tz="UTC")


def test_gatehouse_pghp_times_the_next_sentence():
    data = read_ais(shared_file("nmea/dma_aislib_stream_example.txt"))
    r = data.report
    assert r.rejected["no_timestamp"] == 0
    assert r.first_ts.floor("s") == pd.Timestamp("2010-06-11 11:46:10", tz="UTC")
    assert (r.last_ts - r.first_ts).total_seconds() == pytest.approx(28, abs=1)
    # station = base-station MMSI of the $PGHP line
    assert "992190934" in set(data.aux["mmsi"].astype(str)) | set(data.positions["station"])
    assert data.positions["station"].str.fullmatch(r"\d*").all()


def test_uscg_trailing_fields():
    data = read_ais(shared_file("nmea/libais_typeexamples.nmea"))
    pos = data.positions.set_index("mmsi")
    assert pos.loc[367033650, "ts"] == pd.Timestamp(1325394060, unit="s", tz="UTC")
    assert pos.loc[367033650, "station"] == "r003669946"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"1717027200 {T1}", "2024-05-30T00:00:00Z"),
        (f"1717027200123 {T1}", "2024-05-30T00:00:00.123Z"),
        (f"2024-05-30T00:00:00Z {T1}", "2024-05-30T00:00:00Z"),
        (f"2024-05-30 00:00:01,{T1}", "2024-05-30T00:00:01Z"),
        (f"{T1},1364272372", "2013-03-26T04:32:52Z"),
        (f"{T1},1daasd4218,,1357134222", "2013-01-02T13:43:42Z"),
        (f"\\s:x,c:1635731889*00\\{T1}", "2021-11-01T01:58:09Z"),
    ],
)
def test_time_layouts(line, expected):
    data = read_ais([line])
    assert data.positions["ts"].tolist() == [pd.Timestamp(expected)]


def test_no_time_rejected_with_a_fix_hint():
    data = read_ais(shared_file("nmea/gpsd_ais-nmea-type6-fid55.log"))
    assert data.positions.empty
    assert data.report.rejected["no_timestamp"] > 1000
    assert any("--start-time" in w for w in data.report.warnings)


def test_start_time_then_type4_base_station_clock():
    t4 = encode(
        msg_type=4,
        mmsi=2190047,
        year=2024,
        month=5,
        day=30,
        hour=1,
        minute=0,
        second=0,
        lat=55.0,
        lon=12.0,
    )
    data = read_ais([T1, t4, T1], start_time=START)
    assert data.positions["ts"].tolist() == [START, START + pd.Timedelta(hours=1)]
    assert data.report.warnings == []


def test_type4_does_not_move_the_clock_back():
    t4 = encode(
        msg_type=4,
        mmsi=2190047,
        year=2020,
        month=1,
        day=1,
        hour=0,
        minute=0,
        second=0,
        lat=55.0,
        lon=12.0,
    )
    data = read_ais([t4, T1], start_time=START)
    assert data.positions["ts"].tolist() == [START]


def test_gprmc_sets_the_clock():
    data = read_ais(shared_file("nmea/gpsd_ais-nmea.log"))
    assert data.report.first_ts.date() == pd.Timestamp("2020-04-07").date()
    assert len(data.positions) > 100
    assert data.report.rejected["no_timestamp"] <= 2  # only sentences before the first RMC


# -- sentinels, text, counting -----------------------------------------------------------------


def test_not_available_values_become_missing():
    feed = [
        encode(
            msg_type=1,
            mmsi=211000001,
            lat=55.0,
            lon=12.0,
            speed=102.3,
            course=360,
            heading=511,
            status=0,
        ),
        encode(msg_type=1, mmsi=211000002, lat=91, lon=181, speed=1),
        encode(msg_type=1, mmsi=0, lat=55.0, lon=12.0),
        encode(
            msg_type=18, mmsi=211000003, lat=-33.5, lon=151.25, speed=5.5, course=90.1, heading=45
        ),
        encode(msg_type=27, mmsi=211000004, lat=54.5, lon=10.25, speed=63, course=511),
    ]
    data = read_ais(feed, start_time=START)
    pos = data.positions.set_index("mmsi")
    assert list(pos.index) == [211000001, 211000003, 211000004]
    assert pos.loc[211000001, ["sog", "cog", "heading"]].isna().all()
    assert pos.loc[211000003, "nav_status"] == 15
    assert pos.loc[211000003, "sog"] == pytest.approx(5.5)
    assert pos.loc[211000004, ["sog", "cog"]].isna().all()
    assert pos.loc[211000004, "lat"] == pytest.approx(54.5, abs=1 / 600)
    assert data.report.rejected["invalid_position"] == 1
    assert data.report.rejected["invalid_mmsi"] == 1


def test_text_fields_strip_padding_and_keep_raw_characters():
    parts = pyais.encode_dict(
        {
            "msg_type": 5,
            "mmsi": 211000005,
            "shipname": "<B>&'=+",
            "callsign": "AB1",
            "destination": "X Y  ",
            "imo": 0,
            "ship_type": 0,
        },
        talker_id="AI",
    )
    assert len(parts) == 2
    st = read_ais(parts, start_time=START).statics.iloc[0]
    assert st["name"] == "<B>&'=+"
    assert st["destination"] == "X Y"
    assert pd.isna(st["imo"]) and pd.isna(st["ship_type"]) and pd.isna(st["length"])
    assert st["ais_class"] == "A"


def test_bad_checksums_and_counts():
    data = read_ais(shared_file("nmea/gfw_edge_cases/errors.nmea"))
    assert data.report.rejected["bad_checksum"] == 2
    assert data.report.lines == 5 and data.report.sentences == 5
    gps = "$GPRMC,213914.00,A,5251.2,N,00541.1,E,0.0,0.0,070420,,,A*6B"
    data = read_ais([gps, "", "junk", T1, "!AIVDM,1,1,,A,15RT", "$PGHP,1,bad"])
    r = data.report
    assert (r.lines, r.sentences) == (6, 2)
    assert r.rejected["malformed"] == 1
    assert len(data.positions) == 1


def test_unsupported_types_counted_then_dropped():
    data = read_ais(shared_file("nmea/dma_aislib_stream_example.txt"))
    assert data.report.messages[8] == 63 and data.report.messages[20] == 191
    assert data.report.messages[1] == 2511 and data.report.messages[5] == 424
    assert set(data.positions["msg_type"].unique()) <= set(nmea.POSITION_TYPES)
