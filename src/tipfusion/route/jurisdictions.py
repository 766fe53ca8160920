"""Police-station boundaries the unit supplies: GeoJSON, GeoPackage or shapefile, any CRS, with an editable
station → district table. Located with a shapely STRtree; a point on a shared border is reported as such.

No openly licensed station layer exists offline, so tipfusion ships only a synthetic demo jurisdiction
(`demo_jurisdiction`), clearly labelled, for tests and the demo.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from pyproj import CRS, Transformer
from shapely import STRtree
from shapely.geometry import Point, box, mapping, shape
from shapely.geometry.base import BaseGeometry

from tipfusion.enrich.isp_table import TableProblem
from tipfusion.errors import ConfigurationError


@dataclass(frozen=True)
class Station:
    station_id: str
    district: str
    geometry: BaseGeometry


@dataclass(frozen=True)
class Location:
    station: Station
    on_border: bool
    others: tuple[str, ...] = ()


class Jurisdiction:
    def __init__(self, stations: list[Station]):
        self.stations = sorted(stations, key=lambda s: s.station_id)
        self.tree = STRtree([s.geometry for s in self.stations])
        self.districts = sorted({s.district for s in self.stations})

    def locate(self, lon: float, lat: float) -> Location | None:
        """The station whose area covers the point; on a border, the first by id, with the others named."""
        point = Point(lon, lat)
        hits = [self.stations[i] for i in self.tree.query(point, predicate="covered_by")]
        if not hits:
            return None
        hits.sort(key=lambda s: s.station_id)
        on_border = len(hits) > 1 or hits[0].geometry.boundary.distance(point) < 1e-9
        return Location(hits[0], on_border, tuple(s.station_id for s in hits[1:]))

    def district_named(self, name: str | None) -> str | None:
        if not name:
            return None
        folded = name.strip().casefold()
        return next((d for d in self.districts if d.casefold() == folded), None)


def _to_wgs84(geometries: list[BaseGeometry], crs: CRS | None) -> list[BaseGeometry]:
    if crs is None or crs.equals(CRS.from_epsg(4326)):
        return geometries
    transformer = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)
    return [
        shapely.transform(g, lambda xy: list(zip(*transformer.transform(xy[:, 0], xy[:, 1]), strict=True)))
        for g in geometries
    ]


def _read_geojson(path: Path) -> tuple[list[dict[str, Any]], list[BaseGeometry], CRS | None]:
    data = json.loads(path.read_text())
    features = data.get("features", []) if isinstance(data, dict) else []
    crs = None
    name = (((data.get("crs") or {}).get("properties") or {}).get("name")) if isinstance(data, dict) else None
    if name:
        crs = CRS.from_user_input(name)
    return [f.get("properties") or {} for f in features], [shape(f["geometry"]) for f in features], crs


def _read_geopackage(path: Path) -> tuple[list[dict[str, Any]], list[BaseGeometry], CRS | None]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT table_name, column_name, srs_id FROM gpkg_geometry_columns LIMIT 1").fetchone()
        if row is None:
            raise ConfigurationError(f"{path}: no feature table in this GeoPackage")
        table, column, srs_id = row
        definition = conn.execute("SELECT definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?", (srs_id,)).fetchone()
        cursor = conn.execute(f'SELECT * FROM "{table}"')
        names = [d[0] for d in cursor.description]
        properties, geometries = [], []
        for values in cursor:
            record = dict(zip(names, values, strict=True))
            blob = record.pop(column)
            flags = blob[3]
            envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get((flags >> 1) & 0x07, 0)
            geometries.append(shapely.from_wkb(bytes(blob[8 + envelope :])))
            properties.append(record)
    crs = CRS.from_wkt(definition[0]) if definition and definition[0] and definition[0] != "undefined" else None
    if crs is None and srs_id not in (0, -1):
        crs = CRS.from_epsg(srs_id)
    return properties, geometries, crs


def _read_shapefile(path: Path) -> tuple[list[dict[str, Any]], list[BaseGeometry], CRS | None]:
    import shapefile

    reader = shapefile.Reader(str(path))
    names = [f[0] for f in reader.fields[1:]]
    properties = [dict(zip(names, record, strict=True)) for record in reader.records()]
    geometries = [shape(s.__geo_interface__) for s in reader.shapes()]
    prj = path.with_suffix(".prj")
    return properties, geometries, CRS.from_wkt(prj.read_text()) if prj.exists() else None


def read_layer(
    path: Path, station_field: str = "station", district_field: str = "district", districts_table: Path | None = None
) -> tuple[list[Station], list[TableProblem]]:
    """Stations from a boundary file (reprojected to WGS 84); bad features are reported and left out."""
    if not path.exists():
        raise ConfigurationError(f"{path}: boundary file not found")
    suffix = path.suffix.lower()
    readers = {".geojson": _read_geojson, ".json": _read_geojson, ".gpkg": _read_geopackage, ".shp": _read_shapefile}
    if suffix not in readers:
        raise ConfigurationError(f"{path}: expected a GeoJSON, GeoPackage (.gpkg) or shapefile (.shp)")
    try:
        properties, geometries, crs = readers[suffix](path)
    except (ValueError, KeyError, sqlite3.Error, struct.error) as exc:
        raise ConfigurationError(f"{path}: cannot read boundaries ({exc})") from exc
    geometries = _to_wgs84(geometries, crs)
    district_of: dict[str, str] = {}
    if districts_table is not None:
        with districts_table.open(newline="") as handle:
            for row in csv.DictReader(handle):
                district_of[(row.get("station") or "").strip()] = (row.get("district") or "").strip()
    stations, problems = [], []
    for number, (props, geometry) in enumerate(zip(properties, geometries, strict=True), start=1):
        name = str(props.get(station_field) or "").strip()
        district = district_of.get(name) or str(props.get(district_field) or "").strip()
        if not name:
            problems.append(TableProblem(str(path), number, station_field, "feature without a station name"))
        elif not district:
            problems.append(TableProblem(str(path), number, district_field, f"station {name!r} has no district"))
        elif geometry.is_empty or geometry.geom_type not in {"Polygon", "MultiPolygon"}:
            problems.append(TableProblem(str(path), number, "geometry", f"{geometry.geom_type} (expected a polygon)"))
        elif not geometry.is_valid:
            problems.append(TableProblem(str(path), number, "geometry", shapely.is_valid_reason(geometry)))
        else:
            stations.append(Station(name, district, geometry))
    return stations, problems


# -- the synthetic demo jurisdiction ----------------------------------------------------------------------------
DEMO_DISTRICTS = ["Exampleton", "Sampleganj", "Demopur", "Testnagar", "Mockabad", "Fictiva"]


def demo_jurisdiction(out: Path) -> tuple[Path, Path]:
    """A fictional city: 6 districts × 5 stations on a grid, and a PIN gazetteer for it (SYNTHETIC)."""
    out.mkdir(parents=True, exist_ok=True)
    features, gazetteer = [], []
    west, south, step = 77.00, 28.50, 0.05
    for d, district in enumerate(DEMO_DISTRICTS):
        for s in range(5):
            x0, y0 = west + s * step, south + d * step
            station = f"PS {district} {s + 1}"
            features.append(
                {
                    "type": "Feature",
                    "geometry": mapping(box(x0, y0, x0 + step, y0 + step)),
                    "properties": {"station": station, "district": district, "synthetic": True},
                }
            )
            pin = f"9{d + 1:02d}{s + 1:03d}"
            gazetteer.append((pin, f"{district} sector {s + 1}", round(y0 + step / 2, 5), round(x0 + step / 2, 5)))
    layer = out / "demo-stations.geojson"
    layer.write_text(
        json.dumps({"type": "FeatureCollection", "name": "SYNTHETIC demo jurisdiction", "features": features}, indent=1)
    )
    pins = out / "demo-pins.csv"
    with pins.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["pin", "locality", "latitude", "longitude"])
        writer.writerows(gazetteer)
    return layer, pins


def load_gazetteer(path: Path | None) -> dict[str, tuple[float, float, str]]:
    """PIN → (lon, lat, locality). A PIN is a hint, never the station on its own."""
    if path is None or not path.exists():
        return {}
    out = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                out[row["pin"].strip()] = (float(row["longitude"]), float(row["latitude"]), row.get("locality", ""))
            except (KeyError, ValueError):
                continue
    return out


def load_landline_areas(path: Path | None) -> list[tuple[str, str]]:
    """The unit's landline table: E.164 prefix (STD code, exchange) → district, longest prefix first.

    A landline's exchange says which part of the city the line is in — a district at best, never a station.
    """
    if path is None:
        return []
    rows: list[tuple[str, str]] = []
    with path.open(newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), 2):
            prefix = "+" + "".join(ch for ch in str(row.get("prefix") or "") if ch.isdigit())
            district = str(row.get("district") or "").strip()
            if len(prefix) < 3 or not district:
                raise ConfigurationError(f"{path}:{number}: expected prefix (e.g. +9111234) and district")
            rows.append((prefix, district))
    return sorted(rows, key=lambda r: -len(r[0]))
