"""World context: every port of the world and the coastline, so that "in port" and "at sea" mean
the same anywhere, not only inside the zone layers a user happens to load.

Ports are the 3,766 of the NGA World Port Index (data/context/world_ports.csv, made by
scripts/make_world_ports.py), each with a harbour radius derived from its size and type. The
coastline is the Natural Earth 1:50m land already vendored for the map report (world-atlas
land-50m, quantized to about 400 m x 190 m and generalised for 1:50m: distances to the shore are
good to about 1-2 km, not at harbour scale; a harbour is judged by the ports, not the shore).

    ctx = world_context()              # loaded once per process, on first use
    d = ctx.port_distance_m(lat, lon)  # metres to the nearest WPI port, vectorised
    i, d = ctx.nearest_port(lat, lon)  # row in ctx.ports (-1 for NaN input) and metres
    ctx.near_port(lat, lon)            # inside any port's harbour radius (x cfg scale)
    ctx.shore_distance_m(lat, lon)     # metres to the coastline, 0 on land
    ctx.at_sea(lat, lon)               # off the coast and out of every harbour (cfg thresholds)

Every query takes arrays (or scalars) of WGS84 degrees and returns numpy arrays of the same
length; NaN or out-of-range coordinates give NaN distances, -1 indices and False. Distances are
exact great-circle metres (spherical Earth, mda.geo.EARTH_RADIUS_M) to the nearest port or
coastline segment: queries are bucketed on a grid of 1° cells (split to 1/8° and 1/64° where
crowded), each cell finds the few items
that can be nearest to any point in it (STRtree look-ups once per cell), and each point is then
measured against those few, so a million points cost about as much as their distinct cells.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import shapely

from mda.config import DATA_DIR, ContextConfig
from mda.errors import MdaError
from mda.geo import EARTH_RADIUS_M

#: The bundled World Port Index extract (see data/context/SOURCES.md).
PORTS_FILE = DATA_DIR / "context" / "world_ports.csv"
#: The Natural Earth land the report vendors (mda.report.offline.LAND; that module imports
#: folium, too slow to load for a scan, so the path is repeated here and a test checks both agree).
LAND_FILE = Path(__file__).resolve().parent / "report/assets/world-atlas@2.0.2/land-50m.json"

_LEVELS = (1.0, 1.0 / 8, 1.0 / 64)  # query cell sizes (deg): 1° cells, split where crowded
#: Shore distances are exact up to this and inf beyond (the search around a point is bounded).
SHORE_SEARCH_M = 200_000.0
_CROWDED = 8  # a cell with more candidate items than this is split into 8 x 8 smaller ones
_PAD_DEG = 0.02  # bounding boxes grown for arcs bulging off their lon/lat chord and rounding
_CHUNK = 1 << 19  # points measured at once (bounds the memory of point x candidate pairs)


def _unit(lat: npt.ArrayLike, lon: npt.ArrayLike) -> np.ndarray:
    """Unit vectors (n, 3) of WGS84 degrees on a sphere."""
    p, la = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(p) * np.cos(la), np.cos(p) * np.sin(la), np.sin(p)], axis=-1)


def _angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle (radians) between unit vectors, from the chord: exact also for tiny angles."""
    d = u - v
    half_chord = np.sqrt(np.einsum("ij,ij->i", d, d)) / 2.0
    return 2.0 * np.arcsin(np.minimum(half_chord, 1.0))


class _NearestIndex:
    """Exact nearest item on the sphere for many query points.

    Items are great-circle arcs from a to b (a point when a == b), each with an `offset` in metres
    subtracted from its distance (a harbour radius: the distance to the edge of a disk). Exactness:
    for a point p in a cell of centre c and half-diagonal h, the nearest item x of p satisfies
    f(c, x) <= f(c, x_c) + 2h where x_c is nearest to c (f is 1-Lipschitz in the point), so the
    items within that bound of the centre hold the nearest item of every point in the cell. Cells
    of 1° find their candidates in an STRtree; where a 1° cell has many (a coast with many
    ports), its 1/8° cells pick theirs from those, and so on down to 1/64°.
    """

    def __init__(
        self,
        a_lat: npt.ArrayLike,
        a_lon: npt.ArrayLike,
        b_lat: npt.ArrayLike,
        b_lon: npt.ArrayLike,
        offset: npt.ArrayLike | None = None,
        max_m: float = np.inf,
    ) -> None:
        a_lat, a_lon, b_lat, b_lon = (
            np.asarray(v, dtype="float64") for v in (a_lat, a_lon, b_lat, b_lon)
        )
        n = self.n = len(a_lat)
        self.ua, self.ub = _unit(a_lat, a_lon), _unit(b_lat, b_lon)
        normal = np.cross(self.ua, self.ub)
        norm = np.linalg.norm(normal, axis=1)
        self.is_arc = norm > 1e-12
        self.normal = normal / np.where(self.is_arc, norm, 1.0)[:, None]
        self.any_arc = bool(self.is_arc.any())
        self.offset = np.zeros(n) if offset is None else np.asarray(offset, dtype="float64")
        self.max_offset = float(self.offset.max()) if n else 0.0
        self.max_m = max_m  # farther than this from every item: inf, no item (bounds the search)
        ab = np.stack([np.stack([a_lon, a_lat], 1), np.stack([b_lon, b_lat], 1)], axis=1)
        geoms = np.where(self.is_arc, shapely.linestrings(ab), shapely.points(ab[:, 0]))
        shift = [np.array([d, 0.0]) for d in (-360.0, 360.0)]
        shifted = [shapely.transform(geoms, lambda c, d=d: c + d) for d in shift]
        self.tree = shapely.STRtree(np.concatenate([geoms, *shifted]))  # reach across ±180°

    def _f(self, u: np.ndarray, item: np.ndarray) -> np.ndarray:
        """Metres from unit vectors u[i] to item[i], minus the item's offset."""
        ang = _angle(u, self.ua[item])
        if self.any_arc:
            ang = np.minimum(ang, _angle(u, self.ub[item]))
            arc = np.flatnonzero(self.is_arc[item])
            ua, it = u[arc], item[arc]
            nrm = self.normal[it]
            s = (ua * nrm).sum(axis=1)
            q = ua - s[:, None] * nrm  # projection on the arc's great circle
            inside = ((np.cross(self.ua[it], q) * nrm).sum(axis=1) >= 0) & (
                (np.cross(q, self.ub[it]) * nrm).sum(axis=1) >= 0
            )
            perp = np.arcsin(np.minimum(np.abs(s), 1.0))
            ang[arc[inside]] = np.minimum(ang[arc[inside]], perp[inside])
        return ang * EARTH_RADIUS_M - self.offset[item]

    def _prune(
        self, uc: np.ndarray, h: np.ndarray, cell: np.ndarray, item: np.ndarray, ncells: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """CSR (ptr, items) of the (cell, item) pairs within the nearest-item bound of the cell."""
        f = self._f(uc[cell], item)
        best = np.full(ncells, np.inf)
        np.minimum.at(best, cell, f)
        keep = f <= best[cell] + 2 * h[cell] + 1.0  # 1 m for rounding
        order = np.argsort(cell[keep], kind="stable")
        ptr = np.zeros(ncells + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell[keep], minlength=ncells), out=ptr[1:])
        return ptr, item[keep][order]

    def _tree_candidates(
        self, clat: np.ndarray, clon: np.ndarray, uc: np.ndarray, h: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Candidates of cells from the STRtree: every item within a cap sure to hold them."""
        _, first = self.tree.query_nearest(shapely.points(clon, clat), all_matches=False)
        bound = self._f(uc, first % self.n) + 2 * h + 1.0  # >= the nearest-item bound
        bound = np.minimum(bound, self.max_m + 2 * h + 1.0)
        rho = np.clip((bound + self.max_offset) / EARTH_RADIUS_M, 0.0, np.pi)
        dlat = np.degrees(rho) + _PAD_DEG
        ratio = np.sin(np.minimum(rho, np.pi / 2)) / np.maximum(np.cos(np.radians(clat)), 1e-12)
        polar = (np.abs(clat) + dlat >= 90) | (ratio >= 1) | (rho >= np.pi / 2)
        dlon = np.where(polar, 180.0, np.degrees(np.arcsin(np.minimum(ratio, 1.0))) + _PAD_DEG)
        cell, item = self.tree.query(
            shapely.box(clon - dlon, clat - dlat, clon + dlon, clat + dlat)
        )
        key = np.unique(cell.astype(np.int64) * self.n + item % self.n)  # copies counted once
        return self._prune(uc, h, key // self.n, key % self.n, len(clat))

    def query(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """(item, metres minus offset) of the nearest item to each point (-1, NaN: bad input)."""
        lat = np.atleast_1d(np.asarray(lat, dtype="float64"))
        lon = np.atleast_1d(np.asarray(lon, dtype="float64"))
        best_item = np.full(lat.shape, -1, dtype=np.int64)
        best = np.full(lat.shape, np.nan)
        ok = np.flatnonzero(
            np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        )
        if self.n == 0 or len(ok) == 0:
            return best_item, best
        y, x = lat[ok], lon[ok]
        group, cc = _cells(y, x, _LEVELS[0])
        ptr, items = self._tree_candidates(*cc)
        for parent_size, size in itertools.pairwise(_LEVELS):
            ratio2 = round(parent_size / size) ** 2  # split only cells with many candidates
            points = np.bincount(group, minlength=len(ptr) - 1)  # and points to share them
            crowded = ((np.diff(ptr) > _CROWDED) & (points > ratio2))[group]
            if not crowded.any():
                break  # smaller cells choose among the candidates of their parent cell
            sub, sc = _cells(y[crowded], x[crowded], size, group[crowded], parent_size)
            parent = np.empty(len(sc[0]), dtype=np.int64)
            parent[sub] = group[crowded]
            cell, item = _expand(ptr, items, parent)
            sptr, sitems = self._prune(sc[2], sc[3], cell, item, len(parent))
            group = group.copy()
            group[crowded] = len(ptr) - 1 + sub
            ptr = np.concatenate([ptr, sptr[1:] + ptr[-1]])
            items = np.concatenate([items, sitems])
        best[ok] = np.inf  # stays so where no item is within max_m
        found = ptr[group + 1] > ptr[group]
        ok, group = ok[found], group[found]
        for start in range(0, len(ok), _CHUNK):
            rows, g = ok[start : start + _CHUNK], group[start : start + _CHUNK]
            pair_row, item = _expand(ptr, items, g)
            counts = ptr[g + 1] - ptr[g]
            f = self._f(_unit(lat[rows], lon[rows])[pair_row], item)
            low = np.minimum.reduceat(f, np.cumsum(counts) - counts)  # every cell has a candidate
            hit = np.flatnonzero(f <= low[pair_row])
            first = hit[np.r_[0, np.flatnonzero(np.diff(pair_row[hit])) + 1]]
            near = f[first] <= self.max_m
            best_item[rows[near]] = item[first][near]
            best[rows[near]] = f[first][near]
        return best_item, best


def _expand(
    ptr: np.ndarray, items: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(row, item) pairs: row i of `groups` with every item listed under groups[i] in a CSR."""
    counts = ptr[groups + 1] - ptr[groups]
    row = np.repeat(np.arange(len(groups)), counts)
    rank = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    return row, items[ptr[groups][row] + rank]


def _cells(
    lat: np.ndarray,
    lon: np.ndarray,
    size: float,
    within: np.ndarray | None = None,
    parent_size: float = 1.0,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Cell of each point (0..k-1) and, per cell, centre lat, lon, unit vector and the largest
    distance from the centre to a point of the cell (m). Cells are numbered over the world, or
    (`within`: each point's parent cell number, of `parent_size`) within their parent, so the
    key space stays small and numbering is a bincount, not a sort or a hash."""
    res = round(1.0 / size)  # cells per degree
    cy = np.minimum(((lat + 90.0) * res).astype(np.int64), 180 * res - 1)
    cx = np.minimum(((lon + 180.0) * res).astype(np.int64), 360 * res - 1)
    if within is None:
        key = cy * 360 * res + cx
    else:
        ratio = round(parent_size / size)
        key = (within * ratio + cy % ratio) * ratio + cx % ratio
    present = np.bincount(key) > 0
    which = (np.cumsum(present) - 1)[key]
    first = np.zeros(int(present.sum()), dtype=np.int64)
    first[which] = np.arange(len(key))  # any member point gives the cell's row and column
    lat0, lon0 = cy[first] * size - 90.0, cx[first] * size - 180.0
    clat, clon = lat0 + size / 2, lon0 + size / 2
    uc = _unit(clat, clon)
    corner = np.where(clat >= 0, lat0, lat0 + size)  # the corners nearer the equator are farther
    h = _angle(uc, _unit(corner, lon0)) * EARTH_RADIUS_M
    return which, (clat, clon, uc, h)


@dataclass
class WorldContext:
    """World ports and coastline with vectorised distance queries (see the module docstring)."""

    ports: pd.DataFrame  # wpi, name, country, locode, lat, lon, harbor_size, harbor_type, radius_m
    land_file: Path
    cfg: ContextConfig

    @cached_property
    def _ports(self) -> _NearestIndex:
        p = self.ports
        return _NearestIndex(p["lat"], p["lon"], p["lat"], p["lon"])

    @cached_property
    def _harbours(self) -> _NearestIndex:
        p = self.ports
        radius = p["radius_m"].to_numpy(float) * self.cfg.port_radius_scale
        return _NearestIndex(p["lat"], p["lon"], p["lat"], p["lon"], offset=radius)

    @cached_property
    def land(self) -> np.ndarray:
        """Natural Earth land polygons (lon/lat), prepared for point-in-polygon tests."""
        try:
            geom = pyogrio.read_dataframe(self.land_file).geometry.values
        except Exception as e:  # pyogrio raises several types for unreadable input
            raise MdaError(f"{self.land_file}: cannot read land layer: {e}") from None
        parts = shapely.get_parts(np.asarray(geom, dtype=object))
        shapely.prepare(parts)
        return parts

    @cached_property
    def _land_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.land)

    @cached_property
    def _coast(self) -> _NearestIndex:
        """Coastline segments: every land ring's edges, except the cuts along ±180° and the pole."""
        xy, ring = shapely.get_coordinates(shapely.get_rings(self.land), return_index=True)
        same = ring[1:] == ring[:-1]
        a, b = xy[:-1][same], xy[1:][same]
        cut = ((np.abs(a[:, 0]) >= 180) & (np.abs(b[:, 0]) >= 180)) | (
            (a[:, 1] <= -89.99) & (b[:, 1] <= -89.99)
        )
        a, b = a[~cut], b[~cut]
        return _NearestIndex(a[:, 1], a[:, 0], b[:, 1], b[:, 0], max_m=SHORE_SEARCH_M)

    def nearest_port(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Row in `ports` of the nearest WPI port (-1 for bad input) and its distance in metres."""
        return self._ports.query(lat, lon)

    def port_distance_m(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> np.ndarray:
        """Great-circle metres to the nearest WPI port (NaN for bad input)."""
        return self._ports.query(lat, lon)[1]

    def near_port(
        self, lat: npt.ArrayLike, lon: npt.ArrayLike, within_m: float | None = None
    ) -> np.ndarray:
        """True within `within_m` metres of a WPI port; without it, inside any port's harbour
        radius (its radius_m times cfg.port_radius_scale), so a large port reaches farther."""
        if within_m is not None:
            d = self.port_distance_m(lat, lon)
            return np.isfinite(d) & (d <= within_m)
        edge = self._harbours.query(lat, lon)[1]
        return np.isfinite(edge) & (edge <= 0)

    def on_land(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> np.ndarray:
        """True on Natural Earth 1:50m land (harbour basins often are, at this scale)."""
        lat = np.atleast_1d(np.asarray(lat, dtype="float64"))
        lon = np.atleast_1d(np.asarray(lon, dtype="float64"))
        ok = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        pos, part = self._land_tree.query(shapely.points(lon[ok], lat[ok]))  # bounding boxes
        inside = shapely.contains_xy(self.land[part], lon[ok][pos], lat[ok][pos])  # prepared
        out = np.zeros(lat.shape, dtype=bool)
        out[ok[pos[inside]]] = True
        return out

    def shore_distance_m(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> np.ndarray:
        """Great-circle metres to the Natural Earth 1:50m coastline: 0 on land, inf farther than
        SHORE_SEARCH_M (200 km), NaN for bad input."""
        d = self._coast.query(lat, lon)[1]
        return np.where(self.on_land(lat, lon), 0.0, d)

    def inland_m(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> np.ndarray:
        """Great-circle metres inland from the 1:50m coastline, 0 at sea, NaN for bad input."""
        d = self._coast.query(lat, lon)[1]
        return np.where(self.on_land(lat, lon), d, np.where(np.isnan(d), np.nan, 0.0))

    def at_sea(
        self, lat: npt.ArrayLike, lon: npt.ArrayLike, min_shore_m: float | None = None
    ) -> np.ndarray:
        """True at least `min_shore_m` (default cfg.at_sea_shore_m) from the shore and outside every
        harbour radius: where loitering, encounters and silences mean something offshore."""
        limit = self.cfg.at_sea_shore_m if min_shore_m is None else min_shore_m
        shore = self.shore_distance_m(lat, lon)
        return ~np.isnan(shore) & (shore >= limit) & ~self.near_port(lat, lon)  # inf: far out


_lock = threading.Lock()
_cache: dict[tuple, WorldContext] = {}


def load_ports(path: str | Path = PORTS_FILE) -> pd.DataFrame:
    """The bundled World Port Index extract as a table (one row per port)."""
    try:
        ports = pd.read_csv(path, dtype={"wpi": str, "locode": str}, keep_default_na=False)
    except OSError as e:
        raise MdaError(f"{path}: cannot read world ports: {e.strerror}") from None
    missing = {"wpi", "name", "lat", "lon", "radius_m"} - set(ports.columns)
    if missing:
        raise MdaError(f"{path}: not a world ports table (missing {', '.join(sorted(missing))})")
    return ports


def world_context(cfg: ContextConfig | None = None) -> WorldContext:
    """The world context for these thresholds, built once per process (indexes on first use)."""
    cfg = cfg or ContextConfig()
    key = tuple(sorted(vars(cfg).items()))
    with _lock:
        if key not in _cache:
            _cache[key] = WorldContext(load_ports(), LAND_FILE, cfg)
        return _cache[key]
