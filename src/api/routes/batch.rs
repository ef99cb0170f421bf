//! Batch jobs: inspect an upload, start a job, watch it, download its result, remove it. The jobs
//! themselves (queue, runners, files, expiry) are in [`crate::api::jobs`].

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::auth::{Authorized, Lookup, Principal};
use crate::api::jobs::{self, InputKind, ResultFormat, ScratchDir};
use crate::api::{ApiError, ApiPath, AppState, json_status};

/// Longest text field (column, sheet, format), bytes.
const MAX_TEXT_FIELD: usize = 1024;
/// Bytes of a download read at a time.
const DOWNLOAD_CHUNK: usize = 256 * 1024;

/// The owner of a caller's jobs: the key id, or `None` for anonymous callers.
fn owner(p: &Principal) -> Option<String> {
    p.role.map(|_| p.key_id.clone())
}

/// The form of an upload.
struct Form {
    file: Option<Upload>,
    column: Option<String>,
    sheet: Option<String>,
    format: Option<String>,
}

struct Upload {
    path: PathBuf,
    file_name: String,
    bytes: u64,
    head: Vec<u8>,
}

/// The multipart form, or 415 for any other body.
fn multipart(
    headers: &HeaderMap,
    form: Result<Multipart, MultipartRejection>,
    limit: usize,
) -> Result<Multipart, ApiError> {
    let len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if len.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge(format!(
            "the upload is {} bytes; the limit is {limit}",
            len.unwrap_or(0)
        )));
    }
    form.map_err(|_| {
        ApiError::UnsupportedMediaType(
            "expected multipart/form-data with the file in the field \"file\"".into(),
        )
    })
}

/// Reads the form, writing the file to `dir` as it arrives.
async fn read_form(mut form: Multipart, dir: &Path) -> Result<Form, ApiError> {
    let mut out = Form {
        file: None,
        column: None,
        sheet: None,
        format: None,
    };
    while let Some(mut field) = form.next_field().await? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "file" if out.file.is_some() => {
                return Err(ApiError::InvalidBody("more than one file field".into()));
            }
            "file" => {
                let file_name = clean_file_name(field.file_name().unwrap_or(""));
                let path = dir.join("upload");
                let (bytes, head) = save_field(&mut field, &path).await?;
                out.file = Some(Upload {
                    path,
                    file_name,
                    bytes,
                    head,
                });
            }
            "column" | "sheet" | "format" => {
                let text = text_field(&mut field, &name).await?;
                let text = Some(text).filter(|t| !t.trim().is_empty());
                match name.as_str() {
                    "column" => out.column = text,
                    "sheet" => out.sheet = text,
                    _ => out.format = text,
                }
            }
            other => {
                return Err(ApiError::InvalidBody(format!(
                    "unknown form field {other:?}: the fields are file, column, sheet and format"
                )));
            }
        }
    }
    Ok(out)
}

async fn text_field(field: &mut Field<'_>, name: &str) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_TEXT_FIELD {
            return Err(ApiError::InvalidBody(format!(
                "the field {name} is over {MAX_TEXT_FIELD} bytes"
            )));
        }
    }
    String::from_utf8(buf)
        .map_err(|_| ApiError::InvalidBody(format!("the field {name} is not UTF-8")))
}

/// Streams a file field to `path` on a blocking thread; returns its size and first bytes.
async fn save_field(field: &mut Field<'_>, path: &Path) -> Result<(u64, Vec<u8>), ApiError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let target = path.to_path_buf();
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut f = std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(target)?);
        while let Some(b) = rx.blocking_recv() {
            f.write_all(&b)?;
        }
        f.flush()
    });
    let mut bytes = 0u64;
    let mut head = Vec::new();
    let read = async {
        while let Some(chunk) = field.chunk().await? {
            bytes += chunk.len() as u64;
            if head.len() < 4096 {
                let n = (4096 - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..n]);
            }
            if tx.send(chunk).await.is_err() {
                break; // the writer failed: its error is below
            }
        }
        Ok::<(), ApiError>(())
    }
    .await;
    drop(tx);
    let written = writer.await?;
    read?;
    written?;
    Ok((bytes, head))
}

/// The last path component of an uploaded file name, without control characters, at most 200
/// characters; `upload.csv` when there is none.
fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let clean = clean.trim().to_string();
    if clean.is_empty() || clean == "." || clean == ".." {
        "upload.csv".into()
    } else {
        clean
    }
}

/// Where the uploaded file goes (`input.EXT` beside it), its kind and name; 422 when there is
/// none, it is empty, or a sheet is named for a CSV/TSV file. The move itself is [`place`]'s.
fn input_of(form: &Form) -> Result<(Placing, InputKind, String), ApiError> {
    let Some(up) = &form.file else {
        return Err(ApiError::InvalidBody(
            "no file: send it as multipart/form-data in the field \"file\"".into(),
        ));
    };
    if up.bytes == 0 {
        return Err(ApiError::InvalidBody("the file is empty".into()));
    }
    let kind = jobs::input_kind(&up.file_name, &up.head);
    let utf16_bom = up.head.starts_with(&[0xFF, 0xFE]) || up.head.starts_with(&[0xFE, 0xFF]);
    if kind.delimiter.is_some() && up.head.contains(&0) && !utf16_bom {
        // A PDF, an image, UTF-16 without a BOM: not text a CSV reader should guess at.
        return Err(ApiError::InvalidBody(
            "the file is neither CSV/TSV text (UTF-8 or GBK) nor an Excel workbook".into(),
        ));
    }
    if kind.delimiter.is_some() && form.sheet.is_some() {
        return Err(ApiError::InvalidBody(
            "sheet: only for workbooks (.xlsx)".into(),
        ));
    }
    let to = up.path.with_file_name(format!("input.{}", kind.ext));
    Ok(((up.path.clone(), to), kind, up.file_name.clone()))
}

/// An upload's file and where it goes.
type Placing = (PathBuf, PathBuf);

/// Moves the upload into place (blocking); the path it is at now.
fn place((from, to): Placing) -> Result<PathBuf, ApiError> {
    std::fs::rename(&from, &to)?;
    Ok(to)
}

/// `POST /v1/batch/inspect`: an upload's columns, suggested address column, encoding, sheets and
/// first rows. Nothing is kept.
pub(super) async fn inspect(
    _: Authorized<Lookup>,
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let form = multipart(&headers, form, state.jobs.config().max_upload_bytes)?;
    let scratch = state.jobs.scratch()?;
    let form = read_form(form, scratch.path()).await?;
    let (placing, kind, _) = input_of(&form)?;
    let sheet = form.sheet.clone();
    let view = tokio::task::spawn_blocking(move || {
        let view = place(placing).and_then(|path| jobs::inspect(&path, kind, sheet.as_deref()));
        drop(scratch);
        view
    })
    .await??;
    Ok(axum::Json(view).into_response())
}

/// `POST /v1/batch`: upload a file → 202 with the job and its `Location`.
pub(super) async fn create(
    Authorized(caller, ..): Authorized<Lookup>,
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let form = multipart(&headers, form, state.jobs.config().max_upload_bytes)?;
    state.jobs.check_room()?;
    let scratch: ScratchDir = state.jobs.scratch()?;
    let form = read_form(form, scratch.path()).await?;
    let format = match form.format.as_deref() {
        None => ResultFormat::Csv,
        Some(f) => ResultFormat::parse(f)
            .ok_or_else(|| ApiError::InvalidBody(format!("format {f:?}: expected csv or xlsx")))?,
    };
    let (placing, kind, file_name) = input_of(&form)?;
    let st = state.clone();
    let pending = Pending::new(&state);
    let slot = pending.slot.clone();
    let job = tokio::task::spawn_blocking(move || {
        let path = place(placing)?;
        let mut record = jobs::examine(
            &path,
            kind,
            &file_name,
            form.column.as_deref(),
            form.sheet.as_deref(),
            format,
            st.jobs.config().max_rows,
        )?;
        record.owner = owner(&caller);
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if slot.abandoned {
            return Err(ApiError::Timeout);
        }
        let job = st.jobs.submit(&st, scratch, record)?;
        slot.job = Some((job.id().to_string(), owner(&caller)));
        Ok(job)
    })
    .await??;
    pending.answered();
    let location = format!("/v1/batch/{}", job.id());
    let mut response = json_status(StatusCode::ACCEPTED, &job);
    if let Ok(v) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// A job being made for a request that may be dropped (its upload timed out, its client went
/// away) before it answers: a job made after that is removed, since no one learns its id.
struct Pending {
    state: AppState,
    slot: Arc<Mutex<Slot>>,
    answered: bool,
}

#[derive(Default)]
struct Slot {
    abandoned: bool,
    /// The job made, with its owner.
    job: Option<(String, Option<String>)>,
}

impl Pending {
    fn new(state: &AppState) -> Pending {
        Pending {
            state: state.clone(),
            slot: Arc::default(),
            answered: false,
        }
    }

    /// The request answers with the job: it stays.
    fn answered(mut self) {
        self.answered = true;
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        slot.abandoned = true;
        if let Some((id, owner)) = slot.job.take() {
            tracing::info!(job = %id, "batch job removed: its request was dropped before it answered");
            let state = self.state.clone();
            let remove = move || state.jobs.remove(&id, owner.as_deref());
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => drop(rt.spawn_blocking(remove)),
                Err(_) => drop(remove()),
            }
        }
    }
}

/// The owner to look `id` up for, once the id is well-formed (else 400) and jobs are on.
fn owner_of(state: &AppState, id: &str, caller: &Principal) -> Result<Option<String>, ApiError> {
    if !jobs::valid_id(id) {
        return Err(ApiError::BadRequest(
            "a batch job id is 32 lowercase hex digits".into(),
        ));
    }
    state.jobs.check_enabled()?;
    Ok(owner(caller))
}

/// `GET /v1/batch/{id}`: the job, with its progress.
pub(super) async fn job(
    Authorized(caller, ..): Authorized<Lookup>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let owner = owner_of(&state, &id, &caller)?;
    let record = state.jobs.get(&id, owner.as_deref())?;
    Ok(axum::Json(record.view()).into_response())
}

/// `DELETE /v1/batch/{id}`: cancels the job if it runs and removes it and its files.
pub(super) async fn remove(
    Authorized(caller, ..): Authorized<Lookup>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let owner = owner_of(&state, &id, &caller)?;
    let st = state.clone();
    tokio::task::spawn_blocking(move || st.jobs.remove(&id, owner.as_deref())).await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /v1/batch/{id}/result`: the result file, streamed; 409 while the job is not done.
pub(super) async fn result(
    Authorized(caller, ..): Authorized<Lookup>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let owner = owner_of(&state, &id, &caller)?;
    let (record, path) = state.jobs.result(&id, owner.as_deref())?;
    let (file, len) = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        let len = file.metadata()?.len();
        Ok((file, len))
    })
    .await?
    .map_err(|e: std::io::Error| match e.kind() {
        // Swept or removed since it was looked up.
        std::io::ErrorKind::NotFound => ApiError::NotFound(format!("no batch job {id}")),
        _ => ApiError::internal(e),
    })?;
    let stem = Path::new(&record.file_name)
        .file_stem()
        .map_or("result".into(), |s| s.to_string_lossy().into_owned());
    let name = format!("{stem}-dizhi.{}", record.format.ext());
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_fallback(&name),
        rfc5987(&name)
    );
    let mut response = Body::from_stream(file_stream(file)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(record.format.mime()),
    );
    h.insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
    if let Ok(v) = header::HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// A file read on a blocking thread, a chunk at a time.
fn file_stream(
    mut file: std::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        loop {
            let mut buf = vec![0u8; DOWNLOAD_CHUNK];
            match file.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                        return; // the client went away
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// `name` percent-encoded as an RFC 8187 `filename*` value.
fn rfc5987(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `name` with every non-ASCII or quoting character as `_`, for clients without `filename*`.
fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_cleaned_and_encoded() {
        assert_eq!(clean_file_name("C:\\Users\\x\\工单.xlsx"), "工单.xlsx");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name(""), "upload.csv");
        assert_eq!(rfc5987("工单 1.csv"), "%E5%B7%A5%E5%8D%95%201.csv");
        assert_eq!(ascii_fallback("工单 1.csv"), "__ 1.csv");
    }
}
