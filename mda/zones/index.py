"""The classification grid index of a zone set, built once when the zones are loaded.

1° blocks of 1/32° cells, each cell knowing the zones that cover it entirely and the clipped
pieces of zones that cross it, so most points are settled by two array look-ups and only points
near a zone edge get an exact point-in-polygon test against a small piece. A point exactly on a
zone boundary is outside it (the "within" rule of geopandas.sjoin).

:func:`attach` builds the index as :func:`mda.zones.load_zones` returns, or reads it from the
on-disk cache under $MDA_CACHE_DIR (default $XDG_CACHE_HOME/mda or ~/.cache/mda; "off" disables
it), keyed by the zone geometries, this module's code and the GEOS version; the table carries
it. :func:`index_of` is what classification uses: it never touches the disk. A copy or slice of
the table (or one changed in place, or built by hand) does not carry the index: its index comes
from a small in-memory cache keyed by the geometries (a copy of loaded zones finds theirs), or
is built in memory.
"""

from __future__ import annotations

import hashlib
import logging
import operator
import os
from collections import OrderedDict
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from mda.zones.geometry import Bools, Floats, Geoms, Ints, polygon_parts

log = logging.getLogger(__name__)

CELLS_PER_DEG = 32  # classification grid: 1° blocks of 1/32° cells
_LEAF_DEG = 1.0 / CELLS_PER_DEG
_BLOCKS = 180 * 360
_PAD_DEG = 1e-9  # cells are clipped slightly larger so points on a cell edge test exactly
_MEMORY_INDEXES = 4  # indexes kept in the in-memory cache (the least recently used go)
#: Index files kept in the on-disk cache; the least recently written beyond this are removed.
_DISK_CACHE_FILES = 16
#: What, besides the geometries, an index depends on: the algorithm and the GEOS library.
_CODE_KEY = Path(__file__).read_bytes() + shapely.geos_version_string.encode()
#: Attribute of a loaded zone table holding its index (a plain attribute, which pandas does not
#: carry to copies and slices).
_ATTRIBUTE = "_mda_zone_index"


@dataclass
class GridIndex:
    """Look-up tables of a zone set (see the module docstring)."""

    block_full_ptr: Ints  # CSR over 180*360 blocks: zones covering the whole block
    block_full: Ints
    block_slot: Ints  # block -> slot in leaf_table, -1 when no cell-level entries
    leaf_table: Ints  # slot * cells + cell -> leaf index, -1 when empty
    leaf_full_ptr: Ints  # CSR over leaves: zones covering the whole cell
    leaf_full: Ints
    leaf_part_ptr: Ints  # CSR over leaves: pieces (zone clipped to the cell) to test
    leaf_part: Ints
    edge_ptr: Ints  # CSR over pieces: their ring edges as rows of (x0, y0, x1, y1)
    edges: Floats  # shape (4, number of edges), rows contiguous for fast gathers
    piece_zone: Ints


@dataclass(frozen=True)
class _Carried:
    """A loaded table's index and the geometry objects it was built from (kept alive, so their
    identity tells whether the table still holds exactly these geometries in this order)."""

    geoms: Geoms
    index: GridIndex

    def fits(self, geoms: Geoms) -> bool:
        return len(geoms) == len(self.geoms) and all(map(operator.is_, geoms, self.geoms))


_INDEX_CACHE: OrderedDict[str, GridIndex] = OrderedDict()


def _geometries(zones: gpd.GeoDataFrame) -> Geoms:
    return np.asarray(zones.geometry.values, dtype=object)


def attach(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """`zones` carrying its index: from memory, the on-disk cache, or built (and cached)."""
    geoms = _geometries(zones).copy()  # not a view: the table's own array may change in place
    object.__setattr__(zones, _ATTRIBUTE, _Carried(geoms, _index_for(geoms, _cache_dir())))
    return zones


def index_of(zones: gpd.GeoDataFrame) -> GridIndex:
    """The index of a zone table: the one it carries, else one built in memory (no disk I/O)."""
    geoms = _geometries(zones)
    carried = getattr(zones, _ATTRIBUTE, None)
    if isinstance(carried, _Carried) and carried.fits(geoms):
        return carried.index
    return _index_for(geoms, None)


def _index_for(geoms: Geoms, folder: Path | None) -> GridIndex:
    """The grid index of a zone set, from the in-memory cache, the on-disk cache in `folder`
    (None: none) or built. The key covers everything the index depends on: the geometries, this
    module's source and the GEOS version, so a changed zone, code or library gets a new entry,
    never a stale one."""
    digest = hashlib.sha1(_CODE_KEY)
    for wkb in shapely.to_wkb(geoms):
        digest.update(wkb)
    key = digest.hexdigest()
    if key in _INDEX_CACHE:
        _INDEX_CACHE.move_to_end(key)
        return _INDEX_CACHE[key]
    index = _load_index(folder / f"zone-index-{key}.npz") if folder else None
    if index is None:
        index = _build_index(geoms)
        if folder:
            _save_index(index, folder, key)
    _INDEX_CACHE[key] = index
    if len(_INDEX_CACHE) > _MEMORY_INDEXES:
        _INDEX_CACHE.popitem(last=False)
    return index


# --------------------------------------------------------------------------------------------
# On-disk cache


def _cache_dir() -> Path | None:
    """$MDA_CACHE_DIR, else $XDG_CACHE_HOME/mda, else ~/.cache/mda; None when MDA_CACHE_DIR is
    empty or "off" (no on-disk cache)."""
    env = os.environ.get("MDA_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off") else Path(env)
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "mda"
    try:
        return Path.home() / ".cache" / "mda"
    except RuntimeError:  # no home directory (some service accounts): no cache
        return None


def _load_index(path: Path) -> GridIndex | None:
    """A cached index, or None when the file is missing or not a complete index (rebuilt)."""
    names = [f.name for f in fields(GridIndex)]
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {n: npz[n] for n in names}
    except FileNotFoundError:
        return None
    except Exception as e:  # a truncated or foreign file: numpy, zipfile and OS errors alike
        log.debug("%s: unusable zone index cache (%s), rebuilding", path, e)
        return None
    if arrays["edges"].dtype != np.float64 or any(
        a.dtype != np.int64 for n, a in arrays.items() if n != "edges"
    ):
        return None
    return GridIndex(**arrays)


def _save_index(index: GridIndex, folder: Path, key: str) -> None:
    """Write the index atomically (temporary file, then rename); a cache that cannot be written
    is skipped, never an error. Keeps the newest _DISK_CACHE_FILES files."""
    tmp = folder / f".zone-index-{key}.{os.getpid()}.tmp.npz"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(tmp, **asdict(index))
        os.replace(tmp, folder / f"zone-index-{key}.npz")
        cached = sorted(folder.glob("zone-index-*.npz"), key=lambda f: f.stat().st_mtime)
        for old in cached[:-_DISK_CACHE_FILES]:
            old.unlink(missing_ok=True)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        log.debug("zone index cache not written to %s: %s", folder, e)


# --------------------------------------------------------------------------------------------
# Building


class _Cells(NamedTuple):
    """Square grid cells of zones: cell (x, y) of side `size` degrees counted from (-180, -90)."""

    zone: Ints
    size: Floats
    x: Ints
    y: Ints

    def take(self, keep: Bools) -> _Cells:
        return _Cells(self.zone[keep], self.size[keep], self.x[keep], self.y[keep])

    @staticmethod
    def concat(parts: list[_Cells]) -> _Cells:
        return _Cells(*(np.concatenate([p[k] for p in parts]) for k in range(4)))


class _Leaves(NamedTuple):
    """Cells of 1/32° a zone's boundary crosses, and the piece (the zone clipped to the parent
    cell, padded) their points are tested against."""

    zone: Ints
    x: Ints
    y: Ints
    piece: Ints


def _build_index(geoms: Geoms) -> GridIndex:
    """Quadtree descent of every zone's cells, then the block and leaf look-up tables."""
    full, leaves, pool = _descend(geoms, _start_cells(geoms))
    # a zone reaching latitude 90 or longitude 180 touches padded cells beyond the world's
    # edge; no position falls in them (classify clamps to the last cell), so drop them
    world = (leaves.x < 360 * CELLS_PER_DEG) & (leaves.y < 180 * CELLS_PER_DEG)
    leaves = _Leaves(*(a[world] for a in leaves))
    leaf_piece, piece_zone, pieces = _pieces(leaves, pool)
    edge_ptr, edges = _piece_edges(pieces)
    block_full_ptr, block_full = _full_blocks(full)
    fx, fy, fzone = _full_leaf_cells(full)
    n = len(fx)
    block_slot, leaf_table, leaf_of, nleaves = _leaf_tables(
        np.concatenate([fx, leaves.x]), np.concatenate([fy, leaves.y])
    )
    leaf_full_ptr, leaf_full = _csr(leaf_of[:n], fzone, nleaves)
    leaf_part_ptr, leaf_part = _csr(leaf_of[n:], leaf_piece, nleaves)
    return GridIndex(
        block_full_ptr,
        block_full,
        block_slot,
        leaf_table,
        leaf_full_ptr,
        leaf_full,
        leaf_part_ptr,
        leaf_part,
        edge_ptr,
        edges,
        piece_zone,
    )


def _start_cells(geoms: Geoms) -> _Cells:
    """Per non-empty zone, the cells of one power-of-two size (1/32° to 64°) covering its
    bounding box, the smallest size at least the box's larger side."""
    b = shapely.bounds(geoms)
    ok = ~shapely.is_empty(geoms)
    zone = np.flatnonzero(ok)
    b = b[ok]
    extent = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    size = np.clip(2.0 ** np.ceil(np.log2(np.maximum(extent, _LEAF_DEG))), _LEAF_DEG, 64.0)
    x0 = np.floor((b[:, 0] + 180) / size).astype(np.int64)
    x1 = np.floor((b[:, 2] + 180) / size).astype(np.int64)
    y0 = np.floor((b[:, 1] + 90) / size).astype(np.int64)
    y1 = np.floor((b[:, 3] + 90) / size).astype(np.int64)
    nx, ny = x1 - x0 + 1, y1 - y0 + 1
    item, rank = _expand(nx * ny)
    return _Cells(zone[item], size[item], x0[item] + rank % nx[item], y0[item] + rank // nx[item])


def _descend(geoms: Geoms, cells: _Cells) -> tuple[_Cells, _Leaves, Geoms]:
    """Quarter cells until each is covered entirely by its zone (a full cell) or is a leaf its
    boundary crosses; cells the zone misses are dropped. All zones and cells of a level are
    processed together. Returns the full cells, the leaves and the pool of clipped pieces
    (the zones themselves first) that leaves index.

    Each cell is tested against its parent's piece (the zone clipped to the parent's padded
    cell), exact inside that padded cell, so the finest level needs no clipping.
    """
    pool, parent = [geoms], cells.zone.copy()
    offset = len(geoms)
    none_int, none_float = np.empty(0, np.int64), np.empty(0, np.float64)
    full = [_Cells(none_int, none_float, none_int, none_int)]
    leaves = [_Leaves(none_int, none_int, none_int, none_int)]
    while len(cells.zone):
        pieces = np.concatenate(pool)
        shapely.prepare(pieces)
        padded = _boxes(cells, _PAD_DEG)
        hit = shapely.intersects(pieces[parent], padded)
        cells, parent, padded = cells.take(hit), parent[hit], padded[hit]
        # the half-padded box lies strictly inside the parent's padded clip
        inside = shapely.contains_properly(pieces[parent], _boxes(cells, _PAD_DEG / 2))
        full.append(cells.take(inside))
        cells, parent, padded = cells.take(~inside), parent[~inside], padded[~inside]
        leaf = cells.size <= _LEAF_DEG
        leaves.append(_Leaves(cells.zone[leaf], cells.x[leaf], cells.y[leaf], parent[leaf]))
        split = ~leaf
        nsplit = int(split.sum())
        pool.append(shapely.intersection(pieces[parent[split]], padded[split]))
        parent = np.repeat(offset + np.arange(nsplit), 4)
        offset += nsplit
        cells = _quarters(cells.take(split))
    found = _Leaves(*(np.concatenate(a) for a in zip(*leaves, strict=True)))
    return _Cells.concat(full), found, np.concatenate(pool)


def _quarters(cells: _Cells) -> _Cells:
    """The four half-size cells of each cell, in order (x0 y0, x1 y0, x0 y1, x1 y1)."""
    x, y = np.repeat(cells.x, 4), np.repeat(cells.y, 4)
    q = np.tile(np.arange(4), len(cells.zone))
    return _Cells(
        np.repeat(cells.zone, 4), np.repeat(cells.size, 4) / 2, x * 2 + q % 2, y * 2 + q // 2
    )


def _boxes(cells: _Cells, pad: float) -> Geoms:
    x0, y0 = -180.0 + cells.x * cells.size, -90.0 + cells.y * cells.size
    out: Geoms = shapely.box(x0 - pad, y0 - pad, x0 + cells.size + pad, y0 + cells.size + pad)
    return out


def _pieces(leaves: _Leaves, pool: Geoms) -> tuple[Ints, Ints, Geoms]:
    """The pieces leaves test against, numbered from 0: each leaf's piece, each piece's zone,
    and the pieces."""
    used, leaf_piece = np.unique(leaves.piece, return_inverse=True)
    leaf_piece = leaf_piece.ravel()
    piece_zone = np.empty(len(used), dtype=np.int64)
    piece_zone[leaf_piece] = leaves.zone
    return leaf_piece, piece_zone, pool[used]


def _full_blocks(full: _Cells) -> tuple[Ints, Ints]:
    """CSR over the 1° blocks: the zones covering each block entirely (full cells of 1° or
    more, as every block inside them within the world)."""
    bx, by, zone = _subcells(full.take(full.size >= 1.0), 1)
    inside = (bx < 360) & (by < 180)
    return _csr((by * 360 + bx)[inside], zone[inside], _BLOCKS)


def _full_leaf_cells(full: _Cells) -> tuple[Ints, Ints, Ints]:
    """(x, y, zone) of the 1/32° cells inside full cells under 1° (within the world)."""
    x, y, zone = _subcells(full.take(full.size < 1.0), CELLS_PER_DEG)
    world = (x < 360 * CELLS_PER_DEG) & (y < 180 * CELLS_PER_DEG)
    return x[world], y[world], zone[world]


def _subcells(cells: _Cells, per_deg: int) -> tuple[Ints, Ints, Ints]:
    """(x, y, zone) of every cell of 1/per_deg degrees inside the given cells."""
    per = (cells.size * per_deg).astype(np.int64)
    item, rank = _expand(per * per)
    x = cells.x[item] * per[item] + rank % per[item]
    y = cells.y[item] * per[item] + rank // per[item]
    return x, y, cells.zone[item]


def _leaf_tables(x: Ints, y: Ints) -> tuple[Ints, Ints, Ints, int]:
    """Number the distinct 1/32° cells (x, y) that hold entries: block_slot (block -> slot,
    -1 when none), leaf_table (slot * cells + cell -> leaf, -1 when none), the leaf of each
    given cell, and the number of leaves."""
    width = 360 * CELLS_PER_DEG
    keys, leaf_of = np.unique(y * width + x, return_inverse=True)
    kx, ky = keys % width, keys // width
    block = (ky // CELLS_PER_DEG) * 360 + kx // CELLS_PER_DEG
    cell = (ky % CELLS_PER_DEG) * CELLS_PER_DEG + kx % CELLS_PER_DEG
    slot_blocks = np.unique(block)
    block_slot = np.full(_BLOCKS, -1, dtype=np.int64)
    block_slot[slot_blocks] = np.arange(len(slot_blocks))
    cells = CELLS_PER_DEG * CELLS_PER_DEG
    leaf_table = np.full(len(slot_blocks) * cells, -1, dtype=np.int64)
    leaf_table[block_slot[block] * cells + cell] = np.arange(len(keys))
    return block_slot, leaf_table, leaf_of.ravel(), len(keys)


def _piece_edges(pieces: Geoms) -> tuple[Ints, Floats]:
    """Ring edges of each piece (x0, y0, x1, y1), as a CSR table over pieces."""
    mixed = shapely.get_type_id(pieces) == 7  # clipping can add slivers of lower dimension
    if mixed.any():
        pieces = pieces.copy()
        pieces[mixed] = polygon_parts(pieces[mixed])
    polys, owner = shapely.get_parts(pieces, return_index=True)
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    edges = np.hstack([coords[:-1][same], coords[1:][same]])
    ptr, edges = _csr(owner[ring_poly[ring[:-1][same]]], edges, len(pieces))
    return ptr, np.ascontiguousarray(edges.T)


def _expand(counts: Ints) -> tuple[Ints, Ints]:
    """For items with `counts` sub-items: (item of each sub-item, rank within its item)."""
    item = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return item, np.arange(len(item)) - starts[item]


def _csr(keys: Ints, values: NDArray[Any], n: int) -> tuple[Ints, NDArray[Any]]:
    """Values grouped by key 0..n-1 (stable): (ptr, values), key k's at ptr[k]:ptr[k + 1]."""
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return ptr, values[order]


# --------------------------------------------------------------------------------------------
# Classifying


def classify_xy(lon: Floats, lat: Floats, idx: GridIndex) -> tuple[Ints, Ints]:
    """(point, zone) row positions of every containment of point (lon[i], lat[i]), unsorted.
    NaN or out-of-range coordinates are in no zone; a point on a boundary is outside."""
    ok = np.flatnonzero(
        np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    )
    x, y = lon[ok], lat[ok]
    cpd = CELLS_PER_DEG
    cx = np.minimum(np.floor((x + 180.0) * cpd).astype(np.int64), 360 * cpd - 1)
    cy = np.minimum(np.floor((y + 90.0) * cpd).astype(np.int64), 180 * cpd - 1)
    block = (cy // cpd) * 360 + cx // cpd
    p1, z1 = _gather(idx.block_full_ptr, idx.block_full, ok, block)
    slot = idx.block_slot[block]
    has = slot >= 0
    leaf = idx.leaf_table[slot[has] * cpd * cpd + (cy[has] % cpd) * cpd + cx[has] % cpd]
    rows = np.flatnonzero(has)[leaf >= 0]
    leaf = leaf[leaf >= 0]
    p2, z2 = _gather(idx.leaf_full_ptr, idx.leaf_full, ok[rows], leaf)
    cand_row, piece = _gather(idx.leaf_part_ptr, idx.leaf_part, rows, leaf)
    inside = _inside(x[cand_row], y[cand_row], piece, idx)
    p3, z3 = ok[cand_row[inside]], idx.piece_zone[piece[inside]]
    return np.concatenate([p1, p2, p3]), np.concatenate([z1, z2, z3])


def _inside(x: Floats, y: Floats, piece: Ints, idx: GridIndex) -> Bools:
    """Even-odd point-in-polygon test of (x[i], y[i]) against piece[i], vectorised over edges.

    Pieces are small (a zone clipped to one cell, about five edges). A point on an edge is
    outside, like the "within" predicate.
    """
    item, rank = _expand(idx.edge_ptr[piece + 1] - idx.edge_ptr[piece])
    edge = idx.edge_ptr[piece][item] + rank
    py = y[item]
    ay, by = idx.edges[1][edge], idx.edges[3][edge]
    straddle = (ay > py) != (by > py)  # half-open in y: each crossing counted once
    # the rest can neither cross nor touch
    keep = np.flatnonzero(straddle | (ay == py) | (by == py))
    edge, item, straddle = edge[keep], item[keep], straddle[keep]
    py, ay, by = py[keep], ay[keep], by[keep]
    ax, bx, px = idx.edges[0][edge], idx.edges[2][edge], x[item]
    cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax)  # > 0: point left of a -> b
    crossings = np.bincount(item[straddle & (cross * (by - ay) > 0)], minlength=len(piece))
    on_edge = (cross == 0) & (np.minimum(ax, bx) <= px) & (px <= np.maximum(ax, bx))
    touching = np.bincount(item[on_edge], minlength=len(piece)) > 0
    inside: Bools = (crossings % 2 == 1) & ~touching
    return inside


def _gather(ptr: Ints, values: Ints, rows: Ints, keys: Ints) -> tuple[Ints, Ints]:
    """Pairs (row, value) for every value listed under keys[i] in a CSR table."""
    counts = ptr[keys + 1] - ptr[keys]
    item, rank = _expand(counts)
    return rows[item], values[ptr[keys][item] + rank]
