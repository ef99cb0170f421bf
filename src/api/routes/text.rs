//! Free text in the governance bodies (notes, comments, assignees): checked the same way
//! everywhere.

use crate::api::ApiError;

/// Longest note, comment or assignee accepted (characters).
pub(super) const MAX_NOTE_CHARS: usize = 2000;

/// Rejects an empty or over-long free text field of a body (422).
pub(super) fn check_note(name: &str, text: &str, max: usize) -> Result<(), ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::InvalidBody(format!("{name}: must not be empty")));
    }
    if text.chars().count() > max {
        return Err(ApiError::InvalidBody(format!(
            "{name}: at most {max} characters"
        )));
    }
    Ok(())
}
