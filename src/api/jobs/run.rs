//! Running jobs: runner threads started while jobs wait, each job normalized by the batch
//! library with the server's matcher, its progress saved as it goes.

use super::*;

/// Starts runner threads while there are queued jobs and free runners.
pub(super) fn pump(state: &AppState) {
    let jobs = &state.jobs;
    loop {
        {
            let mut t = jobs.table();
            if t.held || t.running >= jobs.config.max_running.max(1) || t.queue.is_empty() {
                return;
            }
            t.running += 1;
        }
        let st = state.clone();
        let spawned = std::thread::Builder::new()
            .name("dizhi-job".into())
            .spawn(move || runner(&st));
        if let Err(e) = spawned {
            jobs.table().running -= 1;
            tracing::error!(error = %e, "could not start a batch job runner");
            return;
        }
    }
}

/// Runs queued jobs until the queue is empty.
pub(super) fn runner(state: &AppState) {
    let jobs = &state.jobs;
    loop {
        let next = {
            let mut t = jobs.table();
            let mut next = None;
            while let Some(id) = t.queue.pop_front() {
                if let Some(e) = t.jobs.get_mut(&id) {
                    e.record.status = JobStatus::Running;
                    e.record.attempts += 1;
                    e.saved = Instant::now();
                    next = Some((e.record.clone(), e.cancel.clone()));
                    break;
                }
            }
            if next.is_none() {
                t.running -= 1;
            }
            next
        };
        let Some((record, cancel)) = next else { return };
        let _ = save(&jobs.dir, &record);
        let id = record.id.clone();
        let started = Instant::now();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(state, &record, cancel)))
                .unwrap_or_else(|_| Err(internal_failure("the batch run panicked")));
        let kept = match outcome {
            Ok(Some((rows, counts))) => jobs.finish(&id, |r| {
                r.status = JobStatus::Done;
                r.rows_done = rows;
                r.counts = counts;
            }),
            Ok(None) => false,
            Err(error) => jobs.finish(&id, |r| {
                r.status = JobStatus::Failed;
                r.error = Some(error);
            }),
        };
        if kept {
            tracing::info!(job = %id, secs = started.elapsed().as_secs_f64(), "batch job finished");
        } else {
            // Removed while it ran.
            let _ = fs::remove_dir_all(jobs.dir.join(&id));
        }
    }
}

pub(super) fn internal_failure(detail: &str) -> JobError {
    tracing::error!(error = %detail, "batch job failed");
    JobError {
        code: "internal".into(),
        message: "the server could not finish this job".into(),
    }
}

/// Runs one job: `Some((rows, counts))` when done, `None` when cancelled.
pub(super) fn run(
    state: &AppState,
    record: &Record,
    cancel: Arc<AtomicBool>,
) -> Result<Option<(u64, Counts)>, JobError> {
    let jobs = &state.jobs;
    let job_dir = jobs.dir.join(&record.id);
    let input = job_dir.join(&record.input);
    let output = record.result_path(&job_dir);
    let mut options = record.options();
    options.cancel = Some(cancel);
    options.threads = match jobs.config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
        n => n,
    };
    options.max_address_chars = state.limits.max_address_chars;
    let bad_input = |e: batch::Error| match e {
        batch::Error::Io(e) => internal_failure(&e.to_string()),
        other => JobError {
            code: "bad_input".into(),
            message: other.to_string(),
        },
    };
    // An earlier run's complete rows stay (CSV); anything else starts over.
    let mut counts = Counts::default();
    let mut resumed = false;
    if record.format == ResultFormat::Csv && output.exists() {
        let header = batch::inspect(&input, &options)
            .map_err(bad_input)?
            .output_header();
        if let Ok(point) = batch::prepare_resume(&output, b',', &header) {
            counts = count_statuses(&output, header.len() - 2)
                .map_err(|e| internal_failure(&e.to_string()))?;
            options.skip_rows = point.rows;
            options.write_header = !point.header;
            resumed = true;
        }
    }
    let file = if resumed {
        fs::OpenOptions::new().append(true).open(&output)
    } else {
        File::create(&output)
    }
    .map_err(|e| internal_failure(&e.to_string()))?;
    let id = record.id.as_str();
    let progress = |done: u64, _total: Option<u64>| jobs.progress(id, done);
    let summary = batch::run(
        &input,
        BufWriter::new(file),
        &options,
        &state.matcher,
        &progress,
    )
    .map_err(bad_input)?;
    if summary.interrupted {
        return Ok(None);
    }
    for s in Status::ALL {
        counts.add(s.as_str(), summary.count(s));
    }
    Ok(Some((summary.skipped + summary.rows, counts)))
}

/// The statuses of the rows of a partial CSV result (column `status_col`).
pub(super) fn count_statuses(path: &Path, status_col: usize) -> Result<Counts, csv::Error> {
    let mut counts = Counts::default();
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec)? {
        counts.add(
            std::str::from_utf8(rec.get(status_col).unwrap_or(b"")).unwrap_or(""),
            1,
        );
    }
    Ok(counts)
}
