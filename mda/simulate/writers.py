"""Writers of the received traffic: tagged NMEA 0183 (payloads from `mda.encode`, pyais for
the statics) and the DMA and NOAA CSV layouts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mda import encode
from mda.ais.layouts import HEADING_NA
from mda.simulate.vessels import KINDS

if TYPE_CHECKING:
    from mda.simulate.result import Simulation

_NAV_TEXT = {0: "Under way using engine", 1: "At anchor", 5: "Moored", 15: "Unknown value"}


def nmea_chunks(sim: Simulation, chunk: int = 200_000) -> Iterator[bytes]:
    """Encoded lines in receive-time order, `chunk` messages at a time (bounded memory)."""
    m = sim.messages
    for lo in range(0, len(m), chunk):
        part = m.iloc[lo : lo + chunk]
        yield _encode(sim, part)


def _encode(sim: Simulation, m: pd.DataFrame) -> bytes:
    """Encode received messages (one or two lines each) into tagged NMEA lines."""
    n = len(m)
    kind = m["kind"].to_numpy()
    row = m["row"].to_numpy()
    ident = m["ident"].to_numpy()
    channel = np.where(m["channel"].to_numpy() == 1, ord("B"), ord("A")).astype(np.uint8)
    pos = kind == 0
    # every message contributes up to two lines: (message index, part)
    parts_per = m["lines"].to_numpy()
    line_msg = np.repeat(np.arange(n), parts_per)
    line_part = np.arange(len(line_msg)) - np.repeat(np.cumsum(parts_per) - parts_per, parts_per)
    width = 90
    body = np.zeros((len(line_msg), width), dtype=np.uint8)
    blen = np.zeros(len(line_msg), dtype=np.int64)
    p = sim.positions
    if pos.any():
        r = row[pos]
        f = encode.position_fields(
            p["mmsi"].to_numpy()[r],
            p["lat"].to_numpy()[r],
            p["lon"].to_numpy()[r],
            p["sog"].to_numpy(dtype=float)[r],
            p["cog"].to_numpy(dtype=float)[r],
            p["heading"].to_numpy(dtype=float)[r],
            p["nav_status"].to_numpy()[r],
            p["_t"].to_numpy()[r] % 60,
            p["msg_type"].to_numpy()[r],
        )
        b = encode.sentence_bodies(encode.position_payloads(f), 0, 1, 1, None, channel[pos])
        dest = np.flatnonzero(pos[line_msg])
        body[dest, : b.shape[1]] = b
        blen[dest] = b.shape[1]
    seq = m.index.to_numpy() % 10
    for k, (payload, fill, total, part) in sim._payloads.items():
        sel_msg = kind == k[0]
        if not sel_msg.any():
            continue
        sel_line = sel_msg[line_msg] & (line_part == part - 1)
        msgs = line_msg[sel_line]
        b = encode.sentence_bodies(
            payload[ident[msgs]],
            fill,
            total,
            part,
            seq[msgs] if total > 1 else None,
            channel[msgs],
        )
        dest = np.flatnonzero(sel_line)
        body[dest, : b.shape[1]] = b
        blen[dest] = b.shape[1]
    # corruption: even messages get one payload character changed (bad checksum), odd ones
    # are cut short (truncated sentence)
    bad = m["corrupt"].to_numpy()[line_msg] & (line_part == 0)
    if bad.any():
        idx = np.flatnonzero(bad)
        cut = m["corrupt_at"].to_numpy()[line_msg[idx]]
        flip = cut % 2 == 0
        col = 14 + cut % 20
        body[idx[flip], col[flip]] = np.where(body[idx[flip], col[flip]] == 48, 49, 48)
        blen[idx[~flip]] = col[~flip]
    return encode.tagged_lines(
        sim.stations,
        m["station"].to_numpy()[line_msg],
        m["unix"].to_numpy()[line_msg],
        body,
        blen,
    )


def csv_text(sim: Simulation, layout: str) -> str:
    """Received, intact, first-heard positions joined with their vessel's static data."""
    m = sim.messages
    m = m[(m["kind"] == 0) & ~m["corrupt"] & ~m["duplicate"]]
    p = sim.positions.iloc[m["row"].to_numpy()].reset_index(drop=True)
    s = sim.statics.iloc[m["ident"].to_numpy()].reset_index(drop=True)  # one MMSI, two craft
    ts = pd.to_datetime(m["unix"].to_numpy(), unit="s", utc=True)
    head = p["heading"].astype("Float64").round(0).astype("Int64")
    dims = s[["to_bow", "to_stern", "to_port", "to_starboard"]].astype("Int64")
    if layout == "dma":
        df = pd.DataFrame(
            {
                "# Timestamp": ts.strftime("%d/%m/%Y %H:%M:%S"),
                "Type of mobile": "Class " + s["ais_class"].astype(str),
                "MMSI": p["mmsi"].astype(np.int64),
                "Latitude": p["lat"].round(6),
                "Longitude": p["lon"].round(6),
                "Navigational status": p["nav_status"].map(_NAV_TEXT),
                "ROT": pd.NA,
                "SOG": p["sog"].round(1),
                "COG": p["cog"].round(1),
                "Heading": head,
                "IMO": s["imo"],
                "Callsign": s["callsign"],
                "Name": s["name"],
                "Ship type": s["kind"].map(lambda k: KINDS[k]["dma"]),
                "Cargo type": pd.NA,
                "Width": s["width"].round(0).astype("Int64"),
                "Length": s["length"].round(0).astype("Int64"),
                "Type of position fixing device": "GPS",
                "Draught": s["draught"],
                "Destination": s["destination"],
                "ETA": pd.NA,
                "Data source type": "AIS",
                "A": dims["to_bow"],
                "B": dims["to_stern"],
                "C": dims["to_port"],
                "D": dims["to_starboard"],
            }
        )
    else:
        df = pd.DataFrame(
            {
                "MMSI": p["mmsi"].astype(np.int64),
                "BaseDateTime": ts.strftime("%Y-%m-%dT%H:%M:%S"),
                "LAT": p["lat"].round(5),
                "LON": p["lon"].round(5),
                "SOG": p["sog"].round(1),
                "COG": p["cog"].round(1),
                "Heading": head.fillna(HEADING_NA),
                "VesselName": s["name"],
                "IMO": ("IMO" + s["imo"].astype("string")),
                "CallSign": s["callsign"],
                "VesselType": s["ship_type"],
                "Status": p["nav_status"].where(s["ais_class"] == "A").astype("Int64"),
                "Length": s["length"].round(0).astype("Int64"),
                "Width": s["width"].round(0).astype("Int64"),
                "Draft": s["draught"],
                "Cargo": pd.NA,
                "TransceiverClass": s["ais_class"],
            }
        )
    return df.to_csv(index=False, lineterminator="\n")


def static_payloads(iv: pd.DataFrame) -> dict[tuple[int, int], tuple]:
    """Per identity armoured payloads of its static messages, encoded once with pyais.

    Keys (message kind, part): kind 2 = type 5 (Class A, two parts), 3 = type 24A and
    4 = type 24B (Class B). Values: (payload matrix with one row per identity, fill bits,
    total parts, part); rows of identities that never send that kind stay blank.
    """
    found: dict[int, dict[int, tuple[list[bytes], int]]] = {2: {}, 3: {}, 4: {}}
    for i, r in enumerate(iv.itertuples()):
        dims = {
            "to_bow": r.to_bow,
            "to_stern": r.to_stern,
            "to_port": r.to_port,
            "to_starboard": r.to_starboard,
        }
        if r.ais_class == "A":
            msgs = {
                2: {
                    "msg_type": 5,
                    "mmsi": r.mmsi,
                    "imo": int(r.imo) if pd.notna(r.imo) else 0,
                    "callsign": r.callsign,
                    "shipname": r.name,
                    "ship_type": r.ship_type,
                    **dims,
                    "epfd": 1,
                    "draught": r.draught if pd.notna(r.draught) else 0,
                    "destination": r.destination,
                    "ais_version": 2,
                }
            }
        else:
            msgs = {
                3: {"msg_type": 24, "mmsi": r.mmsi, "partno": 0, "shipname": r.name},
                4: {
                    "msg_type": 24,
                    "mmsi": r.mmsi,
                    "partno": 1,
                    "ship_type": r.ship_type,
                    "callsign": r.callsign,
                    "vendorid": "MDA",
                    **dims,
                },
            }
        for k, msg in msgs.items():
            found[k][i] = encode.static_payloads(msg)
    out: dict[tuple[int, int], tuple] = {}
    for k, by_ident in found.items():
        if not by_ident:
            continue
        parts, fill = next(iter(by_ident.values()))
        for part, sample in enumerate(parts):
            mat = np.full((len(iv), len(sample)), ord("0"), dtype=np.uint8)
            for i, (payloads, _) in by_ident.items():
                mat[i] = np.frombuffer(payloads[part], dtype=np.uint8)
            last = part == len(parts) - 1
            out[(k, part + 1)] = (mat, fill if last else 0, len(parts), part + 1)
    return out
