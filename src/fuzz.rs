//! Fuzz targets: the parser, normalization, comparison and every file reader, each as one function
//! of arbitrary bytes that must return (an error is fine) and never panic or abort.
//!
//! `examples/fuzz.rs` (run by `scripts/fuzz.sh`, outside `cargo test`) feeds them mutated inputs
//! for a set time; an input that made one fail is kept in `fuzz/regressions/TARGET/` and replayed
//! by the tests. There is no registers config reader yet, so no target for it.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What is fuzzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// [`crate::Parser::parse`] of the input as text.
    Parse,
    /// [`crate::text::normalize`] and the personal-number masker of the input as text.
    Normalize,
    /// [`crate::address::compare`] of the input's two lines, parsed.
    Compare,
    /// The batch CSV/TSV reader (encoding detection, every row).
    Csv,
    /// The bounded workbook opener and sheet reader, on the input as an `.xlsx` file.
    Xlsx,
    /// The GeoJSON footprint reader.
    GeoJson,
    /// The GeoPackage footprint reader.
    GeoPackage,
    /// The Shapefile footprint reader (the input is the `.shp`; its `.shx`/`.dbf` are the seed's).
    Shapefile,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 8] = [
        Target::Parse,
        Target::Normalize,
        Target::Compare,
        Target::Csv,
        Target::Xlsx,
        Target::GeoJson,
        Target::GeoPackage,
        Target::Shapefile,
    ];

    /// Its name on the command line and in `fuzz/regressions/`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Parse => "parse",
            Target::Normalize => "normalize",
            Target::Compare => "compare",
            Target::Csv => "csv",
            Target::Xlsx => "xlsx",
            Target::GeoJson => "geojson",
            Target::GeoPackage => "gpkg",
            Target::Shapefile => "shp",
        }
    }

    /// The target of a name.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether the input is text (mutated as characters too).
    pub fn is_text(self) -> bool {
        matches!(self, Target::Parse | Target::Normalize | Target::Compare)
    }
}

fn parser() -> &'static crate::Parser {
    static PARSER: OnceLock<crate::Parser> = OnceLock::new();
    PARSER.get_or_init(|| {
        let dicts = crate::Dictionaries::embedded().expect("embedded dictionaries");
        crate::Parser::new(&dicts)
    })
}

/// Runs `target` on `input`; `scratch` is a directory of the caller's for the file readers.
/// Returns normally whatever the input (errors included); a panic is a finding.
pub fn run(target: Target, input: &[u8], scratch: &Path) {
    match target {
        Target::Parse => {
            let text = String::from_utf8_lossy(input);
            let p = parser().parse(&text);
            let n = text.chars().count();
            for c in &p.components {
                assert!(c.start <= c.end && c.end <= n, "span out of the input");
            }
        }
        Target::Normalize => {
            let text = String::from_utf8_lossy(input);
            let norm = crate::text::normalize(&text);
            let _ = norm.original_span(0, norm.len());
            let masked = crate::text::personal::mask_personal(&text);
            assert!(
                !crate::text::personal::has_personal(&masked),
                "a number is left after masking"
            );
        }
        Target::Compare => {
            let text = String::from_utf8_lossy(input);
            let (a, b) = text.split_once('\n').unwrap_or((&text, ""));
            let _ = crate::address::compare(&parser().parse(a), &parser().parse(b));
        }
        Target::Csv => {
            let options = crate::batch::BatchOptions::default();
            if let Ok(mut source) = crate::batch::read::Source::from_reader(
                Box::new(Cursor::new(input.to_vec())),
                Some(input.len() as u64),
                &options,
            ) {
                let _ = source.inspection(&options);
                let mut rows = 0;
                while let Ok(Some(_)) = source.next_row(false) {
                    rows += 1;
                    if rows > 100_000 {
                        break;
                    }
                }
            }
        }
        Target::Xlsx => {
            let path = write(scratch, "in.xlsx", input);
            if let Ok(sheet) = crate::batch::workbook::read_sheet(&path, None) {
                let _ = sheet.range.rows().count();
            }
        }
        Target::GeoJson => {
            let path = write(scratch, "in.geojson", input);
            let _ = crate::gis::read_footprints(&path);
        }
        Target::GeoPackage => {
            let path = write(scratch, "in.gpkg", input);
            let _ = crate::gis::read_footprints(&path);
        }
        Target::Shapefile => {
            let path = write(scratch, "in.shp", input);
            let _ = crate::gis::read_footprints(&path);
        }
    }
}

fn write(scratch: &Path, name: &str, input: &[u8]) -> PathBuf {
    let path = scratch.join(name);
    std::fs::write(&path, input).expect("scratch file");
    path
}

/// Valid inputs to start from, made from the committed fixture district (`fixture`) by the
/// project's own writers; for the Shapefile, its `.shx` and `.dbf` are written into `scratch`,
/// beside where the fuzzed `.shp` goes.
pub fn seeds(target: Target, fixture: &Path, scratch: &Path) -> Vec<Vec<u8>> {
    let addresses = std::fs::read_to_string(fixture.join("addresses.csv")).unwrap_or_default();
    let lines: Vec<&str> = addresses.lines().take(40).collect();
    let texts: Vec<String> = lines
        .iter()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1).map(str::to_string))
        .chain(
            [
                "上海市青浦区华新镇华腾路1288弄3号502室 13950762184",
                "青浦区赵巷镇崧泽大道6666号对面",
                "重固镇一二八八弄三号楼二〇一室",
                "浙江省杭州市余杭区文一西路969号",
                "310118 19900101 123X 东厍村3组12号",
            ]
            .map(String::from),
        )
        .collect();
    let footprints = || {
        crate::gis::read_footprints(&fixture.join("buildings.geojson"))
            .map(|l| l.footprints.into_iter().take(5).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let written = |name: &str, format: crate::gis::GisFormat| -> Vec<Vec<u8>> {
        let path = scratch.join(name);
        match crate::gis::write_footprints(&path, format, &footprints(), Default::default()) {
            Ok(()) => std::fs::read(&path).into_iter().collect(),
            Err(_) => Vec::new(),
        }
    };
    match target {
        Target::Parse | Target::Normalize => texts.into_iter().map(String::into_bytes).collect(),
        Target::Compare => texts
            .windows(2)
            .map(|w| format!("{}\n{}", w[0], w[1]).into_bytes())
            .collect(),
        Target::Csv => {
            let joined = lines.join("\n");
            let utf8 = joined.clone().into_bytes();
            let (gbk, _, _) = encoding_rs::GBK.encode(&joined);
            let tsv = lines.join("\n").replace(',', "\t").into_bytes();
            vec![utf8, gbk.into_owned(), tsv]
        }
        Target::Xlsx => {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            for (r, line) in lines.iter().enumerate() {
                for (c, cell) in line.split(',').enumerate() {
                    let _ = sheet.write_string(r as u32, c as u16, cell);
                }
            }
            book.save_to_buffer().into_iter().collect()
        }
        Target::GeoJson => written("seed.geojson", crate::gis::GisFormat::GeoJson),
        Target::GeoPackage => written("seed.gpkg", crate::gis::GisFormat::GeoPackage),
        // Written as `in.shp`, so its `.shx`/`.dbf` stay beside the fuzzed `.shp`.
        Target::Shapefile => written("in.shp", crate::gis::GisFormat::Shapefile),
    }
}

/// The regression inputs kept for a target (`fuzz/regressions/TARGET/*`), in name order.
pub fn regressions(root: &Path, target: Target) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = root.join("fuzz/regressions").join(target.name());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
        .collect()
}
