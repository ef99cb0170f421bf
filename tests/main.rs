//! The integration tests, as one binary (one link, one run). Each area adds its own module.

mod spatial;
mod store_build;
mod synth_fixture;
