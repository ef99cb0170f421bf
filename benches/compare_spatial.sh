#!/usr/bin/env bash
# Exact point-in-footprint lookups/s: dizhi (rstar + geo) vs shapely's STRtree vs PostGIS, on the
# same footprints and the same query points, in one run.
#
#   benches/compare_spatial.sh [ADDRESSES] [TILES] [WORKDIR]
#
# Defaults: a 700,000-address synthetic 青浦 (462k footprints; the generator fits at most ~775k)
# laid out 3 times side by side: 1.39M footprints, 2.1M query points = every address point, all
# inside a footprint, in random order.
# Needs: python3 with shapely (pip install shapely), postgresql-15-postgis-3 (Debian), run as
# root or a user that can `runuser -u postgres` (initdb refuses root).
set -euo pipefail
ADDRESSES=${1:-700000}
TILES=${2:-3}
WORK=${3:-/tmp/dizhi-compare}
HERE=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HERE/target}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

mkdir -p "$WORK"
(cd "$HERE" && cargo build --release --bin dizhi --example spatial_lookups)
R=$CARGO_TARGET_DIR/release
if [ ! -f "$WORK/district/buildings.geojson" ]; then
  "$R/dizhi" synth --addresses "$ADDRESSES" --seed 1 --out "$WORK/district"
fi

echo "== dizhi" >&2
"$R/examples/spatial_lookups" "$WORK/district/buildings.geojson" "$WORK/district/addresses.csv" \
  --tile "$TILES" --write "$WORK" | tee "$WORK/dizhi.json"

echo "== shapely" >&2
python3 - "$WORK" <<'PY' | tee "$WORK/shapely.json"
import csv, json, sys, time
from concurrent.futures import ThreadPoolExecutor
import numpy as np, shapely
work = sys.argv[1]
with open(f"{work}/footprints.csv", newline="") as f:
    r = csv.reader(f); next(r)
    wkts = np.array([row[1] for row in r], dtype=object)
t = time.perf_counter(); polys = shapely.from_wkt(wkts); read_s = time.perf_counter() - t
xy = np.loadtxt(f"{work}/points.csv", delimiter=",", skiprows=1)
points = shapely.points(xy)
t = time.perf_counter(); tree = shapely.STRtree(polys); build_s = time.perf_counter() - t
def run(pts):
    return tree.query(pts, predicate="intersects")
best1 = best2 = float("inf")
for _ in range(3):
    t = time.perf_counter(); res = run(points); best1 = min(best1, time.perf_counter() - t)
hits = len(np.unique(res[0]))
# Shapely releases the GIL in vectorized GEOS calls: try both cores with two threads.
halves = np.array_split(points, 2)
with ThreadPoolExecutor(2) as ex:
    for _ in range(3):
        t = time.perf_counter(); list(ex.map(run, halves)); best2 = min(best2, time.perf_counter() - t)
print(json.dumps({"engine": "shapely", "version": shapely.__version__, "geos": shapely.geos_version_string,
                  "footprints": len(polys), "points": len(points), "hits": int(hits), "read_s": read_s,
                  "rtree_build_s": build_s, "lookups_per_s_1_thread": len(points) / best1,
                  "lookups_per_s_all_threads": len(points) / best2}))
PY

echo "== PostGIS" >&2
PG="$WORK/pg"
chmod 755 "$WORK"; chmod 644 "$WORK"/*.csv
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ -d "$PG" ]; then as_pg "$PGBIN/pg_ctl" -D "$PG" stop -m fast >/dev/null 2>&1 || true; rm -rf "$PG"; fi
mkdir -p "$PG"; [ "$(id -u)" = 0 ] && chown postgres "$PG"
as_pg "$PGBIN/initdb" -D "$PG" -U postgres --auth=trust >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PG" -l "$PG/log" -w start \
  -o "-k $PG -c listen_addresses='' -c shared_buffers=2GB -c work_mem=512MB -c max_parallel_workers_per_gather=2 -c jit=off" >/dev/null
trap 'as_pg "$PGBIN/pg_ctl" -D "$PG" stop -m fast >/dev/null 2>&1 || true' EXIT
psql_() { as_pg psql -h "$PG" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_ -c "CREATE EXTENSION postgis" >/dev/null
t0=$(date +%s.%N)
psql_ <<SQL
CREATE UNLOGGED TABLE fp_raw (id text, wkt text);
\copy fp_raw FROM '$WORK/footprints.csv' CSV HEADER
CREATE UNLOGGED TABLE fp AS SELECT id, ST_GeomFromText(wkt, 4326)::geometry(Polygon, 4326) AS geom FROM fp_raw;
DROP TABLE fp_raw;
CREATE UNLOGGED TABLE pts_raw (lon float8, lat float8);
\copy pts_raw FROM '$WORK/points.csv' CSV HEADER
CREATE UNLOGGED TABLE pts AS SELECT row_number() OVER () AS pid, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geometry(Point, 4326) AS geom FROM pts_raw;
DROP TABLE pts_raw;
SQL
t1=$(date +%s.%N)
psql_ -c "CREATE INDEX fp_gist ON fp USING gist (geom)"
t2=$(date +%s.%N)
psql_ -c "VACUUM ANALYZE fp" -c "VACUUM ANALYZE pts"
# Best of three runs of one set-based query over the whole points table (footprints do not
# overlap, so count(*) counts points in a footprint).
best=999999; hits=0
for i in 1 2 3; do
  out=$(psql_ -At -c "\\timing on" -c "SELECT count(*) FROM pts p JOIN fp b ON ST_Intersects(b.geom, p.geom)")
  hits=$(echo "$out" | head -1)
  ms=$(echo "$out" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
  best=$(python3 -c "print(min($best, $ms/1000))")
done
plan=$(psql_ -At -c "EXPLAIN SELECT count(*) FROM pts p JOIN fp b ON ST_Intersects(b.geom, p.geom)" | tr '\n' ' ')
version=$(psql_ -At -c "SELECT postgis_lib_version()")
npts=$(psql_ -At -c "SELECT count(*) FROM pts"); nfp=$(psql_ -At -c "SELECT count(*) FROM fp")
python3 -c "import json; print(json.dumps({'engine':'postgis','version':'$version','footprints':$nfp,'points':$npts,'hits':$hits,'load_s':$t1-$t0,'gist_build_s':$t2-$t1,'lookups_per_s':$npts/$best,'plan':'''$plan'''}))" | tee "$WORK/postgis.json"

echo "== ratios" >&2
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
d, s, p = (json.load(open(f"{w}/{n}.json")) for n in ("dizhi", "shapely", "postgis"))
assert d["hits"] == s["hits"] == p["hits"], (d["hits"], s["hits"], p["hits"])
print(f"footprints {d['footprints']:,}  points {d['points']:,}  hits {d['hits']:,} (all three agree)")
print(f"{'':28}{'1 thread':>14}{'2 threads':>14}")
print(f"{'dizhi (rstar+geo)':28}{d['lookups_per_s_1_thread']:>14,.0f}{d['lookups_per_s_all_threads']:>14,.0f}")
print(f"{'dizhi batch, Z-order':28}{'':>14}{d['lookups_per_s_batch_zorder_all_threads']:>14,.0f}")
print(f"{'shapely STRtree ' + s['version']:28}{s['lookups_per_s_1_thread']:>14,.0f}{s['lookups_per_s_all_threads']:>14,.0f}")
print(f"{'PostGIS ' + p['version'] + ' (1 query)':28}{'':>14}{p['lookups_per_s']:>14,.0f}")
print(f"dizhi/shapely: {d['lookups_per_s_1_thread']/s['lookups_per_s_1_thread']:.1f}x (1 thread), "
      f"{d['lookups_per_s_all_threads']/s['lookups_per_s_all_threads']:.1f}x (2 threads)")
print(f"dizhi batch/shapely: {d['lookups_per_s_batch_zorder_all_threads']/s['lookups_per_s_all_threads']:.1f}x (2 threads)")
print(f"dizhi/PostGIS: {d['lookups_per_s_all_threads']/p['lookups_per_s']:.1f}x, batch {d['lookups_per_s_batch_zorder_all_threads']/p['lookups_per_s']:.1f}x (both cores each)")
print(f"R-tree build: dizhi {d['rtree_build_s']:.2f} s, shapely {s['rtree_build_s']:.2f} s, PostGIS GiST {p['gist_build_s']:.2f} s")
print(f"dizhi heap per footprint: {d['heap_bytes_per_footprint_total']:.0f} B (index entries and nodes {d['heap_bytes_per_footprint_tree']:.0f} B)")
PY
