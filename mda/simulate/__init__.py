"""Scenario engine: realistic AIS traffic with planted anomalies -> NMEA or CSV, plus exact truth.

A scenario is data (TOML under ``data/scenarios/``): its zone layers, background traffic (sea lanes
between ports from the Eurostat/ORNL network via ``searoute``, ferries shuttling, ships waiting in
anchorages), transponder and reception behaviour, and planted cases modelled on real incidents.

How it works, vectorised throughout, one module per step:

* ``scenario``: read and check the TOML; ``world``: the run's zones, ships and identities;
* ``motion``: every ship is a list of *knots* (time, position, SOG, COG, heading, navigational
  status); legs build them (sailing along a densified lane, moored or anchored, drifting,
  dragging); ``traffic`` and ``cases`` add the background ships and the planted ones, and
  ``vessels`` gives each its transponder identity;
* ``reporting``: each transponder identity (an MMSI active over a time span) reports on its own
  clock (Class A at ``cadence_s`` under way and ``stationary_cadence_s`` when still, Class B at
  ``class_b_cadence_s``, statics every ``static_interval_s``); all reports of all ships are
  evaluated at once by interpolating the knots;
* ``reception``: terrestrial receivers at the ports hear everything within ``receiver_range_nm``;
  offshore only satellite-like passes get through; some reports are heard twice and a few
  sentences are corrupted. Planted vessels are heard in full so every planted event is observable;
* ``truth`` lists every event a correct detector set must raise: the planted ones and their
  consequences, computed from the transmitted positions and the real zone geometries (port
  visits, restricted-zone entries, per-corridor anchor drags);
* ``result`` holds it all as a :class:`Simulation`; ``writers`` turn it into NMEA or CSV.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mda import schema
from mda.simulate import writers
from mda.simulate.cases import plant_cases
from mda.simulate.habits import add_habits
from mda.simulate.reception import receive
from mda.simulate.reporting import transmissions
from mda.simulate.result import Simulation
from mda.simulate.scenario import SCENARIO_DIR, load_scenario
from mda.simulate.traffic import add_background
from mda.simulate.truth import must_not_alert, outages, truth_events
from mda.simulate.world import World

__all__ = ["SCENARIO_DIR", "Simulation", "load_scenario", "simulate"]


def simulate(
    scenario: str | Path,
    *,
    seed: int | None = None,
    vessels: int | None = None,
    hours: float | None = None,
) -> Simulation:
    """Generate the traffic and truth of a scenario (a name under data/scenarios/ or a path).

    `seed` fixes every random choice (same seed, same bytes); `vessels` rescales the background
    traffic to that many ships; `hours` overrides the scenario's duration.
    """
    data, path = load_scenario(scenario)
    world = World(data, path, seed=seed, vessels=vessels, hours=hours)
    add_background(world)
    plant_cases(world)
    add_habits(world)
    if not world.idents:
        raise world.where.error("traffic", "the scenario has no vessels")
    positions, statics_tx = transmissions(world)
    truth = truth_events(world, positions)
    messages, stations = receive(world, positions, statics_tx)
    iv = pd.DataFrame(world.idents)
    statics = schema.conform(iv.assign(ts=world.t0), schema.VESSELS)
    for col in ("kind", "to_bow", "to_stern", "to_port", "to_starboard"):
        statics[col] = iv[col].to_numpy()
    wl = iv[iv["watchlist"]]
    reason = data["scenario"].get("watchlist_reason", "simulated watch list entry")
    watchlist = (
        pd.DataFrame(
            {
                "mmsi": wl["mmsi"],
                "imo": wl["imo"].astype("Int64"),
                "name": wl["name"],
                "reason": reason,
            }
        )
        if len(wl)
        else None
    )
    sim = Simulation(
        scenario=world.name,
        seed=world.seed,
        start=world.t0,
        end=world.t0 + pd.Timedelta(seconds=world.horizon),
        positions=positions,
        statics=statics,
        truth=truth,
        must_not_alert=must_not_alert(world),
        outages=outages(world),
        watchlist=watchlist,
        messages=messages,
        stations=stations,
        zones=world.zones,
        left_out=world.left_out,
    )
    sim._payloads = writers.static_payloads(iv)
    return sim
