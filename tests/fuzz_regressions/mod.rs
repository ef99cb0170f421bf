//! The fuzz targets (`dizhi::fuzz`) on their seed inputs and on every input kept in
//! `fuzz/regressions/TARGET/`: what once made a reader panic stays fixed.

use std::path::Path;

use dizhi::fuzz::{Target, regressions, run, seeds};

#[test]
fn every_target_takes_its_seeds_and_its_kept_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for target in Target::ALL {
        let scratch = tempfile::tempdir().unwrap();
        let seeded = seeds(target, &root.join("fixtures/qingpu-20k"), scratch.path());
        assert!(!seeded.is_empty(), "no seeds for {}", target.name());
        for input in &seeded {
            run(target, input, scratch.path());
        }
        for (path, input) in regressions(root, target) {
            let outcome = std::panic::catch_unwind(|| run(target, &input, scratch.path()));
            assert!(outcome.is_ok(), "{} panics again", path.display());
        }
    }
}
