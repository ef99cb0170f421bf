//! reader thread → chunks → worker threads → the calling thread writing in input order.
//!
//! Flat memory: the reader takes a token before it hands out a chunk and the writer gives the
//! token back once the chunk is written, so at most `4 × threads` chunks exist at any time, however
//! slow one of them is and however long the input.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::read::{InRow, Source};
use super::row::{BatchRow, process};
use super::write::Sink;
use super::{BatchOptions, BatchSummary, Error, Result};
use crate::search::Matcher;

/// Rows read together and handed to one worker.
struct Chunk {
    seq: u64,
    rows: Vec<InRow>,
}

/// A worked chunk: each row's input fields with its cells.
type Done = (u64, Vec<(Vec<String>, BatchRow)>);

pub(crate) fn run<W: Write + Send>(
    mut source: Source,
    out: W,
    options: &BatchOptions,
    matcher: &Matcher,
    progress: &dyn Fn(u64, Option<u64>),
) -> Result<BatchSummary> {
    let started = Instant::now();
    let inspection = source.inspection(options)?;
    let columns = inspection.address_columns.clone();
    let mut sink = Sink::new(
        out,
        options.output_format,
        &inspection.output_header(),
        options.write_header,
        options.bom,
    )?;
    let threads = options.threads.max(1);
    let chunk_rows = options.chunk_rows.max(1);
    let in_flight = threads * 4;
    let mut summary = BatchSummary {
        encoding: inspection.encoding.clone(),
        address_columns: columns
            .iter()
            .map(|&c| inspection.header[c].clone())
            .collect(),
        ..Default::default()
    };

    let interrupted = AtomicBool::new(false);
    let skipped = AtomicU64::new(0);
    let total_estimate = AtomicU64::new(0);
    let read_error: Mutex<Option<Error>> = Mutex::new(None);
    let never = AtomicBool::new(false);
    let cancel: &AtomicBool = options.cancel.as_deref().unwrap_or(&never);

    let written = std::thread::scope(|s| -> Result<()> {
        let (chunk_tx, chunk_rx) = sync_channel::<Chunk>(in_flight);
        let (done_tx, done_rx) = sync_channel::<Done>(in_flight);
        let (token_tx, token_rx) = sync_channel::<()>(in_flight);
        for _ in 0..in_flight {
            let _ = token_tx.send(());
        }

        let (interrupted, skipped, total_estimate, read_error) =
            (&interrupted, &skipped, &total_estimate, &read_error);
        let source = &mut source;
        s.spawn(move || {
            let mut seq = 0u64;
            let mut rows_read = 0u64;
            let mut to_skip = options.skip_rows;
            'read: loop {
                if cancel.load(Ordering::Relaxed) {
                    interrupted.store(true, Ordering::Relaxed);
                    break;
                }
                if token_rx.recv().is_err() {
                    break;
                }
                let mut rows = Vec::with_capacity(chunk_rows);
                let mut end = false;
                while rows.len() < chunk_rows {
                    match source.next_row(to_skip > 0) {
                        Ok(Some(_)) if to_skip > 0 => {
                            to_skip -= 1;
                            rows_read += 1;
                            skipped.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Some(row)) => {
                            rows_read += 1;
                            rows.push(row);
                        }
                        Ok(None) => {
                            end = true;
                            break;
                        }
                        Err(e) => {
                            if let Ok(mut slot) = read_error.lock() {
                                *slot = Some(e);
                            }
                            end = true;
                            break;
                        }
                    }
                }
                if let Some(t) = source.total_estimate(rows_read) {
                    total_estimate.store(t.max(rows_read), Ordering::Relaxed);
                }
                if !rows.is_empty() {
                    if chunk_tx.send(Chunk { seq, rows }).is_err() {
                        break 'read;
                    }
                    seq += 1;
                } else {
                    // Nothing handed out: the token goes unused.
                }
                if end {
                    break;
                }
            }
        });

        let chunk_rx: Arc<Mutex<Receiver<Chunk>>> = Arc::new(Mutex::new(chunk_rx));
        for _ in 0..threads {
            let chunk_rx = Arc::clone(&chunk_rx);
            let done_tx = done_tx.clone();
            let columns = &columns;
            s.spawn(move || {
                loop {
                    let next = match chunk_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(chunk) = next else { return };
                    let done: Vec<(Vec<String>, BatchRow)> = chunk
                        .rows
                        .into_iter()
                        .map(|row| {
                            let cells = process(&row, columns, options, matcher);
                            (row.fields, cells)
                        })
                        .collect();
                    if done_tx.send((chunk.seq, done)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(chunk_rx);
        drop(done_tx);

        // The writer, on this thread: chunks back in input order.
        let mut pending: BTreeMap<u64, Vec<(Vec<String>, BatchRow)>> = BTreeMap::new();
        let mut next = 0u64;
        for (seq, rows) in done_rx.iter() {
            pending.insert(seq, rows);
            while let Some(rows) = pending.remove(&next) {
                for (fields, cells) in &rows {
                    sink.write(fields, cells)?;
                    summary.rows += 1;
                    summary.statuses[cells.status as usize] += 1;
                    if let Some(l) = cells.level {
                        *summary.levels.entry(l).or_default() += 1;
                    }
                }
                sink.flush()?;
                next += 1;
                let _ = token_tx.send(());
                let done = summary.rows + skipped.load(Ordering::Relaxed);
                let total = match total_estimate.load(Ordering::Relaxed) {
                    0 => None,
                    t => Some(t.max(done)),
                };
                progress(done, total);
            }
        }
        Ok(())
    });
    // On a write error the channels above were dropped when the scope's closure returned, so the
    // reader and the workers have stopped too.
    written?;
    if let Some(e) = read_error.lock().ok().and_then(|mut e| e.take()) {
        sink.flush()?;
        return Err(e);
    }
    sink.finish()?;
    summary.skipped = skipped.load(Ordering::Relaxed);
    summary.interrupted = interrupted.load(Ordering::Relaxed);
    summary.elapsed = started.elapsed();
    Ok(summary)
}
