//! A small mutation fuzzer on stable Rust for the targets of `dizhi::fuzz`: starts from valid
//! inputs made from the fixture district, mutates them (bit flips, random and "interesting" bytes,
//! cut, repeated and spliced ranges, numbers and characters that readers trip on) and runs the
//! target on each, for a set time. A panic is a finding: the input is saved under
//! `fuzz/crashes/TARGET/` (move it to `fuzz/regressions/TARGET/` once fixed, where the tests
//! replay it).
//!
//! ```text
//! cargo run --release --example fuzz -- TARGET SECONDS [SEED]
//! ```
//! prints `TARGET inputs=N crashes=C seconds=S` at the end; exit code 1 when anything crashed.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use dizhi::fuzz::{Target, run, seeds};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const INTERESTING: &[&[u8]] = &[
    b"0",
    b"-1",
    b"4294967295",
    b"18446744073709551615",
    b"10000000000000",
    b"1e308",
    b"NaN",
    b"\x00",
    b"\xff\xff\xff\xff",
    b"\xef\xbb\xbf",
    "\u{3000}".as_bytes(),
    "一二三四五六七八九十百千万亿".as_bytes(),
    "弄号栋幢室".as_bytes(),
    "１３８１２３４５６７８".as_bytes(),
    b"\"",
    b"\r\n",
    b"<sst uniqueCount=\"99999999999999\">",
    b"{\"type\":\"FeatureCollection\",\"features\":[",
    b"]]]]]]]]",
    b"[[[[[[[[",
];

fn mutate(rng: &mut ChaCha8Rng, input: &mut Vec<u8>, others: &[Vec<u8>], text: bool) {
    let rounds = rng.random_range(1..=8);
    for _ in 0..rounds {
        let len = input.len();
        match rng.random_range(0..10) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                input[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                input[i] = rng.random();
            }
            2 => {
                let at = rng.random_range(0..=len);
                let n = rng.random_range(1..16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                input.splice(at..at, bytes);
            }
            3 if len > 1 => {
                let a = rng.random_range(0..len);
                let b = rng.random_range(a..=len.min(a + 256));
                input.drain(a..b);
            }
            4 if len > 1 => {
                let a = rng.random_range(0..len);
                let b = rng.random_range(a..=len.min(a + 64));
                let piece = input[a..b].to_vec();
                let times = rng.random_range(1..64);
                let at = rng.random_range(0..=input.len());
                for _ in 0..times {
                    input.splice(at..at, piece.iter().copied());
                }
            }
            5 if !others.is_empty() => {
                let other = &others[rng.random_range(0..others.len())];
                if !other.is_empty() {
                    let a = rng.random_range(0..other.len());
                    let b = rng.random_range(a..=other.len());
                    let at = rng.random_range(0..=input.len());
                    input.splice(at..at, other[a..b].iter().copied());
                }
            }
            6 => {
                let magic = INTERESTING[rng.random_range(0..INTERESTING.len())];
                let at = rng.random_range(0..=len);
                input.splice(at..at, magic.iter().copied());
            }
            7 if len > 0 => {
                input.truncate(rng.random_range(0..len));
            }
            8 if text => {
                let alphabet: Vec<char> =
                    "青浦区华新镇腾路弄号栋幢楼层室单元村组东西南北甲之附近对面一二三十百零〇幺0123456789０１２３ -－—.．·()（）#"
                        .chars()
                        .collect();
                let at = input.len();
                for _ in 0..rng.random_range(1..24) {
                    let c = alphabet[rng.random_range(0..alphabet.len())];
                    let mut buf = [0u8; 4];
                    input.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                let _ = at;
            }
            _ => {}
        }
    }
    input.truncate(1 << 20);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(target) = args.get(1).and_then(|n| Target::from_name(n)) else {
        let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
        eprintln!(
            "usage: fuzz TARGET SECONDS [SEED]  (targets: {})",
            names.join(" ")
        );
        std::process::exit(2);
    };
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().expect("scratch dir");
    let corpus = seeds(target, &root.join("fixtures/qingpu-20k"), scratch.path());
    assert!(!corpus.is_empty(), "no seed inputs for {}", target.name());
    // Panics are findings, counted here; their messages go to stderr once each.
    std::panic::set_hook(Box::new(|_| {}));
    let crashes_dir = root.join("fuzz/crashes").join(target.name());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let (mut inputs, mut crashes) = (0u64, 0u64);
    for s in &corpus {
        inputs += 1;
        if std::panic::catch_unwind(|| run(target, s, scratch.path())).is_err() {
            crashes += 1;
        }
    }
    while Instant::now() < deadline {
        let mut input = corpus[rng.random_range(0..corpus.len())].clone();
        mutate(&mut rng, &mut input, &corpus, target.is_text());
        inputs += 1;
        let result = std::panic::catch_unwind(|| run(target, &input, scratch.path()));
        if let Err(panic) = result {
            crashes += 1;
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            std::fs::create_dir_all(&crashes_dir).expect("crashes dir");
            let path = crashes_dir.join(format!("{seed}-{inputs}.bin"));
            std::fs::write(&path, &input).expect("crash file");
            eprintln!(
                "{}: panic ({why}), input kept in {}",
                target.name(),
                path.display()
            );
        }
    }
    println!(
        "{} inputs={inputs} crashes={crashes} seconds={:.0}",
        target.name(),
        started.elapsed().as_secs_f64()
    );
    let _ = std::io::stdout().flush();
    std::process::exit(i32::from(crashes > 0));
}
