"""Regenerate data/context/world_ports.csv: every port of the NGA World Port Index, compact.

Reads the World Port Index CSV (default: ../shared/data/geo/nga_wpi_UpdatedPub150.csv beside the
checkout) and keeps what the world context layer needs: WPI number, name, country, UN/LOCODE,
position, harbour size and type, and the harbour radius derived from them
(mda.zones.importing.harbour_radius_m). Rows without a valid position or repeating a WPI number are
dropped and counted. Provenance: data/context/SOURCES.md.

    python scripts/make_world_ports.py [WPI.csv] [-o data/context/world_ports.csv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mda.context import PORTS_FILE
from mda.zones.importing import read_wpi

DEFAULT_SRC = Path(__file__).resolve().parents[2] / "shared/data/geo/nga_wpi_UpdatedPub150.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", nargs="?", type=Path, default=DEFAULT_SRC)
    ap.add_argument("-o", "--out", type=Path, default=PORTS_FILE)
    a = ap.parse_args()
    ports, dropped = read_wpi(a.src)
    ports = ports.sort_values(["country", "name", "wpi"], kind="stable")
    ports = ports.round({"lat": 6, "lon": 6}).astype({"radius_m": "int64"})
    ports.to_csv(a.out, index=False, lineterminator="\n")
    print(f"{len(ports)} ports -> {a.out} ({a.out.stat().st_size:,} bytes)")
    for why, n in dropped.items():
        print(f"dropped {n}: {why}")


if __name__ == "__main__":
    main()
