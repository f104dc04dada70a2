"""Regenerate data/zones/routes.geojson: the Korea–Europe lane and its Baltic legs.

The lanes come from the `searoute` package (Eurostat SeaRoute / ORNL Global Shipping Lane
network, Apache-2.0), so they are a model of the usual sea lanes, not observed traffic. The
generated file is committed; the demo never needs to run this script.

    .venv/bin/python scripts/make_routes.py
"""

from __future__ import annotations

import json

import searoute

from mda.config import DATA_DIR

#: Corridor half-width: the lane model is coarse and real traffic spreads around it.
HALF_WIDTH_M = 10_000
SOURCE = (
    "searoute {version} (Eurostat SeaRoute / ORNL Global Shipping Lane network), "
    "scripts/make_routes.py from {a} to {b}; modelled lane, approximate"
)

#: (id, name, origin lon/lat, destination lon/lat), the ends at the port entrances.
LEGS = [
    (
        "route-korea-europe",
        "Korea–Europe lane: Busan to Rotterdam via Korea Strait, Taiwan Strait, Malacca, "
        "Bab-el-Mandeb, Suez, Gibraltar and Dover",
        (129.05, 35.05),
        (4.0, 51.98),
    ),
    (
        "route-danish-straits",
        "Rotterdam to Gdańsk via Skagerrak, Kattegat and the Sound",
        (4.0, 51.98),
        (18.7, 54.42),
    ),
    (
        "route-gulf-of-finland",
        "Gdańsk to the eastern Gulf of Finland (Tallinn, Helsinki, Ust-Luga, Primorsk)",
        (18.7, 54.42),
        (28.4, 59.7),
    ),
]


def main() -> None:
    """Compute each leg with searoute and write the route layer."""
    version = getattr(searoute, "__version__", "")
    features = []
    for fid, name, a, b in LEGS:
        line = searoute.searoute(list(a), list(b))
        coords = [[round(x, 4), round(y, 4)] for x, y in line["geometry"]["coordinates"]]
        props = {
            "id": fid,
            "name": name,
            "kind": "route",
            "buffer_m": HALF_WIDTH_M,
            "source": SOURCE.format(version=version, a=a, b=b),
        }
        geom = {"type": "LineString", "coordinates": coords}
        features.append({"type": "Feature", "id": fid, "properties": props, "geometry": geom})
    out = DATA_DIR / "zones" / "routes.geojson"
    body = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    out.write_text('{"type": "FeatureCollection", "features": [\n' + body + "\n]}\n", "utf-8")
    print(f"{len(features)} routes -> {out}")


if __name__ == "__main__":
    main()
