#!/bin/sh
# Fuzzes every target of dizhi::fuzz (parser, normalize/masker, compare, and the CSV, XLSX,
# GeoJSON, GeoPackage and Shapefile readers) for SECONDS each, outside `cargo test`:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      # default: 600 s, every target
#
# Each line of output is `TARGET inputs=N crashes=C seconds=S`. A crashing input is kept in
# fuzz/crashes/TARGET/; once fixed, move it to fuzz/regressions/TARGET/ (the tests replay those).
# Exits 1 if any target crashed.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-parse normalize compare csv xlsx geojson gpkg shp}
cargo build --release --example fuzz
status=0
for t in $targets; do
    target/release/examples/fuzz "$t" "$secs" "${FUZZ_SEED:-1}" || status=1
done
exit $status
