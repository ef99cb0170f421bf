//! The `dizhi` binary as a user runs it: exit codes (0 ok, 1 runtime failure, 2 usage error) and
//! what it writes.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::fixture_data;

/// `dizhi ARGS` with `--data DATA`, its output collected.
fn dizhi(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dizhi"))
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A small CSV with an address column named 地址 and another one named 备注.
fn small_csv(dir: &Path) -> String {
    let path = dir.join("in.csv");
    std::fs::write(&path, "id,地址,备注\n1,华腾路1288弄3号,x\n").unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn usage_errors_exit_2_with_the_reason_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let input = small_csv(dir.path());
    let output = dir.path().join("out.csv");
    let out_arg = output.to_str().unwrap();
    let cases: [(&[&str], &str); 9] = [
        (&["parse", "--no-such-flag"], "--no-such-flag"),
        (&["buildings", "--bbox", "1,2,3"], "--bbox"),
        (&["compare", "华腾路1号"], "compare: give two addresses"),
        (&["synth"], "synth: --out DIR is required"),
        (
            &["batch", &input, "--column", "地 址", "-o", out_arg],
            "batch: no column \"地 址\"",
        ),
        (
            &["batch", &input, "--column-index", "0", "-o", out_arg],
            "batch: --column-index counts from 1",
        ),
        (
            &["batch", &input, "--delimiter", ";;", "-o", out_arg],
            "batch: --delimiter must be one ASCII character",
        ),
        (
            &[
                "import",
                &input,
                "--source",
                "s",
                "--kind",
                "addresses",
                "--map",
                "地址",
            ],
            "--map takes column=field",
        ),
        (
            &["eval", "relation", &input, "--folds", "1"],
            "--folds must be at least 2",
        ),
    ];
    for (args, says) in cases {
        let out = dizhi(&data, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // A usage mistake leaves no output file behind.
    assert!(!output.exists());
}

#[test]
fn a_batch_input_without_an_address_column_names_the_flags_that_pick_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "id,名称\n1,华腾路1号\n").unwrap();
    let out = dizhi(dir.path(), &["batch", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with("dizhi: batch: no column is named like 地址")
            && err.contains("give --column NAME or --column-index N"),
        "{err}"
    );
}

#[test]
fn help_and_version_succeed_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["--version"], &["batch", "--help"]] {
        let out = dizhi(dir.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!out.stdout.is_empty() && out.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn runtime_failures_exit_1_with_the_reason_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let missing = dir.path().join("no-such-file.csv");
    let missing = missing.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["batch", missing], "no-such-file.csv"),
        (
            &["eval", "parse", missing, "--format", "bio"],
            "no-such-file.csv",
        ),
        (&["reverse", "121.1,31.1"], "no store in"),
        (&["buildings", "--within", missing], "no-such-file.csv"),
        (&["normalize", "华腾路1号"], ""),
    ];
    for (args, says) in cases {
        let out = dizhi(&data, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with("dizhi: ") && err.contains(says),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn buildings_as_geojson_are_the_features_the_api_writes() {
    let data = fixture_data();
    // Near a door of the fixture: the nearest buildings, each a feature with the building id.
    let out = dizhi(
        data,
        &[
            "buildings",
            "--near",
            "121.0441750,31.1018318",
            "--radius",
            "80",
            "--limit",
            "3",
            "--format",
            "geojson",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let collection: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(collection["type"], "FeatureCollection");
    let features = collection["features"].as_array().unwrap();
    assert!(!features.is_empty());
    let store = dizhi::store::Store::open(data).unwrap();
    for f in features {
        let id = f["id"].as_str().expect("every feature has the building id");
        assert_eq!(f["properties"]["building_id"], id);
        let building = store.building(id).unwrap().unwrap();
        let distance = f["properties"]["distance_m"].as_f64();
        let api = dizhi::spatial::answer::building_feature(
            &store,
            &building,
            distance,
            dizhi::spatial::Crs::Wgs84,
        )
        .unwrap();
        assert_eq!(f, &serde_json::to_value(api).unwrap());
    }
}
