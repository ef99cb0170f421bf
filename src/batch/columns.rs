//! Which input column holds the address: named by its header, by its position, or guessed (the
//! first header containing 地址 or "address"). The one place columns are picked, for the CLI's
//! batch, the API's jobs and the fusion import; the error says what the header holds and leaves
//! the wording of how to name a column to the caller (a flag, a form field).

use super::ColumnRef;

/// Why an address column is not in a header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnError {
    /// None was named and no header looks like an address column.
    #[error("no column is named like 地址 or address (columns: {})", .columns.join(", "))]
    NoAddressColumn {
        /// The header.
        columns: Vec<String>,
    },
    /// No header has this name.
    #[error("no column {name:?} (columns: {})", .columns.join(", "))]
    NoSuchColumn {
        /// The name given.
        name: String,
        /// The header.
        columns: Vec<String>,
    },
    /// The position is past the last column.
    #[error("column {number} is past the last column ({} columns: {})", .columns.len(), .columns.join(", "))]
    PastLast {
        /// The 1-based position given.
        number: usize,
        /// The header.
        columns: Vec<String>,
    },
}

/// The first header containing 地址 or "address" (any case).
pub fn guess_address_column(header: &[String]) -> Option<usize> {
    header
        .iter()
        .position(|h| h.contains("地址") || h.to_ascii_lowercase().contains("address"))
}

/// The 0-based position of a column named by reference.
pub fn find_column(header: &[String], wanted: &ColumnRef) -> Result<usize, ColumnError> {
    match wanted {
        ColumnRef::Name(name) => {
            header
                .iter()
                .position(|h| h == name.trim())
                .ok_or_else(|| ColumnError::NoSuchColumn {
                    name: name.clone(),
                    columns: header.to_vec(),
                })
        }
        ColumnRef::Index(i) if *i < header.len() => Ok(*i),
        ColumnRef::Index(i) => Err(ColumnError::PastLast {
            number: i + 1,
            columns: header.to_vec(),
        }),
    }
}

/// The 0-based address columns: those named, else the guessed one.
pub fn address_columns(header: &[String], wanted: &[ColumnRef]) -> Result<Vec<usize>, ColumnError> {
    if wanted.is_empty() {
        return guess_address_column(header)
            .map(|i| vec![i])
            .ok_or_else(|| ColumnError::NoAddressColumn {
                columns: header.to_vec(),
            });
    }
    wanted.iter().map(|w| find_column(header, w)).collect()
}

/// The address column one text names, as a form field gives it: a header, else a 1-based
/// position; nothing given: the guessed one.
///
/// # Examples
/// ```
/// use dizhi::batch::columns::pick_column;
/// let h: Vec<String> = ["编号", "地址", "3"].map(String::from).to_vec();
/// assert_eq!(pick_column(&h, None), Ok(1));
/// assert_eq!(pick_column(&h, Some("3")), Ok(2)); // a header before a position
/// assert_eq!(pick_column(&h, Some("2")), Ok(1));
/// ```
pub fn pick_column(header: &[String], given: Option<&str>) -> Result<usize, ColumnError> {
    let Some(given) = given.map(str::trim) else {
        return address_columns(header, &[]).map(|c| c[0]);
    };
    if let Some(i) = header.iter().position(|h| h == given) {
        return Ok(i);
    }
    match given.parse::<usize>() {
        Ok(n) if n >= 1 => find_column(header, &ColumnRef::Index(n - 1)),
        _ => Err(ColumnError::NoSuchColumn {
            name: given.to_string(),
            columns: header.to_vec(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_columns_by_name_index_or_guess() {
        let h: Vec<String> = ["id", "门牌地址", "备注"].map(String::from).to_vec();
        assert_eq!(address_columns(&h, &[]).unwrap(), [1]);
        assert_eq!(
            address_columns(&h, &[ColumnRef::Name("备注".into()), ColumnRef::Index(0)]).unwrap(),
            [2, 0]
        );
        assert!(address_columns(&h, &[ColumnRef::Index(3)]).is_err());
        assert!(address_columns(&h, &[ColumnRef::Name("x".into())]).is_err());
    }

    #[test]
    fn columns_by_name_then_index() {
        let h: Vec<String> = ["编号", "地址", "3"].map(String::from).to_vec();
        assert_eq!(pick_column(&h, None).unwrap(), 1);
        assert_eq!(pick_column(&h, Some("编号")).unwrap(), 0);
        assert_eq!(pick_column(&h, Some("2")).unwrap(), 1);
        assert_eq!(pick_column(&h, Some("3")).unwrap(), 2);
        assert!(pick_column(&h, Some("4")).is_err());
        assert!(pick_column(&h, Some("0")).is_err());
        let no_address: Vec<String> = ["编号", "备注"].map(String::from).to_vec();
        assert!(matches!(
            pick_column(&no_address, None),
            Err(ColumnError::NoAddressColumn { .. })
        ));
    }
}
