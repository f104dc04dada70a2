"""Real harbours for the noisy background: ports that are not in the bundled zone layers.

Reference positions (latitude, longitude, WPI number, name, country) from the NGA World Port
Index (Pub. 150, US National Geospatial-Intelligence Agency, public domain), read from the copy
described in ``../shared/data/SOURCES.md`` (``geo/nga_wpi_UpdatedPub150.csv``); only these
figures are part of the project. WPI positions are rounded to about 1'; the simulator moors
ships within a few hundred metres of them, which is all the habits need.
"""

from __future__ import annotations

#: (WPI number, main port name, country, latitude, longitude)
HARBOURS: tuple[tuple[int, str, str, float, float], ...] = (
    (60410, "Pohang", "South Korea", 36.0500, 129.3833),
    (60380, "Masan", "South Korea", 35.1833, 128.5667),
    (60370, "Yosu", "South Korea", 34.7333, 127.7500),
    (60340, "Mokpo", "South Korea", 34.7833, 126.3833),
    (60325, "Pyeongtaek Hang", "South Korea", 37.0000, 126.8000),
    (62430, "Hakata", "Japan", 33.6000, 130.4000),
    (61700, "Shimonoseki", "Japan", 33.9333, 130.9333),
    (60730, "Nakhodka", "Russia", 42.8000, 132.8833),
    (28230, "Kotka", "Finland", 60.4667, 26.9667),
    (28140, "Hanko", "Finland", 59.8167, 22.9500),
    (27820, "Turku", "Finland", 60.4500, 22.2333),
    (28506, "Paldiski Pohjasadam", "Estonia", 59.3498, 24.0475),
    (28425, "Sillamae", "Estonia", 59.4261, 27.7395),
    (24950, "Visby", "Sweden", 57.6333, 18.2833),
    (24460, "Karlskrona", "Sweden", 56.1667, 15.6000),
    (28620, "Ventspils", "Latvia", 57.4000, 21.5333),
    (28640, "Liepaja", "Latvia", 56.5167, 21.0167),
    (28740, "Gdynia", "Poland", 54.5333, 18.5500),
    (28680, "Baltiysk", "Russia", 54.6333, 19.9000),
    (28930, "Kiel", "Germany", 54.3167, 10.1333),
    (30800, "Cuxhaven", "Germany", 53.8667, 8.7167),
    (31040, "Ijmuiden", "Netherlands", 52.4667, 4.5833),
    (31210, "Vlissingen", "Netherlands", 51.4500, 3.6000),
    (35730, "Dunkerque Port Est", "France", 51.0500, 2.3833),
    (38810, "Marseille", "France", 43.3167, 5.3667),
    (40130, "Porto Di Palermo", "Italy", 38.1190, 13.3800),
    (44750, "Izmir", "Turkey", 38.4333, 27.1333),
    (48190, "Aden", "Yemen", 12.7833, 44.9500),
    (49930, "Port Klang", "Malaysia", 3.0000, 101.4000),
)
