//! Making a data directory: `dizhi synth` (a synthetic district's source files) and `dizhi build`
//! (the store and search index from a source directory).

use std::path::Path;

use super::{CliError, CliResult};

/// `dizhi synth`: a district written to `out`, or the generated road names on stdout.
pub fn synth(
    district: &str,
    addresses: usize,
    seed: u64,
    out: Option<&Path>,
    road_names: bool,
    registers: bool,
) -> CliResult {
    let dicts = dizhi::Dictionaries::embedded()?;
    if road_names {
        print!("{}", dizhi::synth::road_names_tsv(&dicts));
        return Ok(());
    }
    let out = out.ok_or_else(|| CliError::usage("synth: --out DIR is required"))?;
    let coverage = dizhi::dictionaries::Coverage::parse(&dicts.admin, district)
        .map_err(|e| CliError::usage(format!("synth: --district: {e}")))?;
    let started = std::time::Instant::now();
    let config = dizhi::synth::SynthConfig { addresses, seed };
    if coverage.is_whole_city() && !registers {
        let parts = dizhi::synth::generate_city_to_dir(&dicts, config, out, |p| {
            eprintln!(
                "synth: {}: {} addresses, {} buildings ({:.0} s)",
                p.district,
                p.addresses,
                p.buildings,
                started.elapsed().as_secs_f64()
            )
        })?;
        eprintln!(
            "synth: 上海市 in {}: {} districts, {} addresses, {} buildings ({:.1} s)",
            out.display(),
            parts.len(),
            parts.iter().map(|p| p.addresses).sum::<usize>(),
            parts.iter().map(|p| p.buildings).sum::<usize>(),
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let [one] = coverage.districts() else {
        return Err(CliError::usage(
            "synth: --district takes one district, or 上海市 for the whole city (not with --registers)",
        ));
    };
    let generated = if registers {
        dizhi::synth::generate_registers_to_dir(&dicts, one, config, out)?
    } else {
        dizhi::synth::generate_district_to_dir(&dicts, one, config, out)?
    };
    eprintln!(
        "synth: {} in {}: {} addresses, {} buildings, {} injected faults in {} ({:.1} s)",
        one.name,
        one.code,
        generated.addresses.len(),
        generated.buildings.len(),
        generated.fault_count(),
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `dizhi synth --next-delivery FROM --out DIR`.
pub fn next_delivery(from: &Path, out: Option<&Path>, seed: u64) -> CliResult {
    let out = out.ok_or_else(|| CliError::usage("synth: --out DIR is required"))?;
    let c = dizhi::synth::next_delivery(from, out, seed)?;
    eprintln!(
        "synth: the next delivery of {} in {}: {} door plates cancelled, {} renumbered, {} given their missing point",
        from.display(),
        out.display(),
        c.cancelled,
        c.renumbered,
        c.corrected
    );
    Ok(())
}

/// `dizhi build`: a progress bar on a terminal once the build has run for a second, then a short
/// summary on stdout.
pub fn build(source_dir: &Path, data: &Path) -> CliResult {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    let started = Instant::now();
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{msg:20} [{bar:40}] {percent:>3}%  {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let shown = Mutex::new(false);
    let progress = |stage: dizhi::store::Stage, done: u64, total: u64| {
        // Only bother a terminal, and only when the build is slow enough to wonder about.
        if let Ok(mut shown) = shown.lock()
            && !*shown
            && started.elapsed() > Duration::from_secs(1)
        {
            // `stderr()` is itself hidden when stderr is not a terminal.
            bar.set_draw_target(ProgressDrawTarget::stderr());
            *shown = true;
        }
        bar.set_message(stage.label());
        // A total of 0 means unknown: let the bar grow with the work.
        bar.set_length(total.max(done).max(1));
        bar.set_position(done);
    };
    let result = dizhi::store::build(source_dir, data, &progress);
    bar.finish_and_clear();
    let report = result?;
    let indexing = Instant::now();
    let store = dizhi::store::Store::open(data)?;
    let indexed = dizhi::setup::generation::build_paired_index(&store, data)?;
    println!(
        "built {} from {} in {:.1} s",
        report.store.display(),
        report.source_dir.display(),
        report.elapsed.as_secs_f64()
    );
    println!(
        "  {} addresses, {} buildings, {} links, {} roads, {} areas",
        report.addresses, report.buildings, report.links, report.roads, report.areas
    );
    let dicts = dizhi::Dictionaries::embedded()?;
    println!("  covers {}", store.coverage(&dicts.admin)?.label());
    println!(
        "  {} sources with {} records, {} truth files{}",
        report.sources,
        report.source_records,
        report.truth_files,
        report
            .seed
            .map(|s| format!(", seed {s}"))
            .unwrap_or_default()
    );
    println!(
        "  search index: {indexed} addresses in {:.1} s",
        indexing.elapsed().as_secs_f64()
    );
    if !report.skipped.is_empty() {
        println!(
            "  skipped (not .csv/.geojson): {}",
            report.skipped.join(", ")
        );
    }
    Ok(())
}

/// `dizhi build --config registers.toml`: the library made from a district's registers, then a
/// summary of what was made and what needs review.
pub fn build_from_registers(config: &Path, data: &Path) -> CliResult {
    let config = dizhi::fuse::registers::RegistersConfig::load(config)?;
    let r = dizhi::fuse::registers::build_from_registers(&config, data)?;
    println!(
        "built {} from the registers of {} in {:.1} s",
        data.display(),
        config.base.display(),
        r.elapsed.as_secs_f64()
    );
    for (name, records, problems) in &r.registers {
        println!("  register {name}: {records} records, {problems} with a problem");
    }
    let count =
        |m: &std::collections::BTreeMap<String, usize>, k: &str| m.get(k).copied().unwrap_or(0);
    println!(
        "  {} standard addresses: {} confirmed, {} single-source, {} proposed",
        r.addresses,
        count(&r.support, "confirmed"),
        count(&r.support, "single_source"),
        count(&r.support, "proposed")
    );
    println!(
        "  {} footprints ({} repaired or left out); addresses linked: {} in their footprint, {} to the nearest, {} between their neighbours, {} by their number along the run, {} beside the other 幢 of their number, {} not placed",
        r.footprints,
        r.footprint_problems.len(),
        count(&r.linked, "contains"),
        count(&r.linked, "nearest"),
        count(&r.linked, "siblings"),
        count(&r.linked, "interpolated"),
        count(&r.linked, "site"),
        r.unlinked
    );
    println!(
        "  {} names repaired towards a standard name; {} records name no door (queued for review); {} 街镇 disagreements with the boundaries (queued)",
        r.repaired_names, r.unplaced_records, r.town_conflicts
    );
    if r.kept > 0 || r.retired > 0 {
        println!(
            "  against the earlier library: {} kept their id ({} changed), {} new, {} gone (audited)",
            r.kept, r.changed, r.added, r.retired
        );
    }
    for p in r.problems.iter().take(20) {
        println!("  problem: {p}");
    }
    if r.problems.len() > 20 {
        println!("  … {} more problems", r.problems.len() - 20);
    }
    Ok(())
}
