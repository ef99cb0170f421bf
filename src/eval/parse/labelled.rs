//! The reader of character-per-line labelled files (naacl2019 `B-/I-`, swei412 `B-/M-/E-/S-`).

/// A labelled file's tag scheme, which also fixes its annotation conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
/// # Examples
/// ```
/// use dizhi::eval::{evaluate, predicted_spans, read_labelled, Scheme, STRUCTURAL};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
/// assert_eq!(gold[0].spans.len(), 2);
/// let spans = predicted_spans(&parser, &parser.parse(&gold[0].text), Scheme::Bio);
/// assert_eq!(spans[1], ("roadno".to_string(), 3, 5));
/// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
/// let road = report.labels.iter().find(|s| s.label == "road").unwrap();
/// assert_eq!((road.precision(), road.recall(), road.f1()), (1.0, 1.0, 1.0));
/// assert!(report.to_table().ends_with("1.0000\n"));
/// assert!(STRUCTURAL.contains(&"roadno"));
/// ```
pub enum Scheme {
    /// `B-/I-` tags, naacl2019 conventions.
    Bio,
    /// `B-/M-/E-/S-` tags, swei412 conventions.
    Bmes,
}

/// One labelled address: its text and gold spans `(label, start, end)` in chars.
#[derive(Debug, Clone, PartialEq, Eq)]
/// # Examples
/// ```
/// use dizhi::eval::{evaluate, predicted_spans, read_labelled, Scheme, STRUCTURAL};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
/// assert_eq!(gold[0].spans.len(), 2);
/// let spans = predicted_spans(&parser, &parser.parse(&gold[0].text), Scheme::Bio);
/// assert_eq!(spans[1], ("roadno".to_string(), 3, 5));
/// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
/// let road = report.labels.iter().find(|s| s.label == "road").unwrap();
/// assert_eq!((road.precision(), road.recall(), road.f1()), (1.0, 1.0, 1.0));
/// assert!(report.to_table().ends_with("1.0000\n"));
/// assert!(STRUCTURAL.contains(&"roadno"));
/// ```
pub struct Labelled {
    /// The address text, tokens joined.
    pub text: String,
    /// Gold spans, in order.
    pub spans: Vec<(String, usize, usize)>,
}

fn gold_label(label: &str) -> String {
    let l = label.to_lowercase();
    match l.as_str() {
        "village" => "community".to_string(),
        _ => l,
    }
}

/// Reads a labelled file's text into addresses.
///
/// # Examples
/// ```
/// use dizhi::eval::{read_labelled, Scheme};
/// let text = "华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n";
/// let addrs = read_labelled(text, Scheme::Bio);
/// assert_eq!(addrs[0].text, "华腾路8号");
/// assert_eq!(addrs[0].spans, vec![("road".to_string(), 0, 3), ("roadno".to_string(), 3, 5)]);
/// ```
pub fn read_labelled(text: &str, scheme: Scheme) -> Vec<Labelled> {
    let mut out = Vec::new();
    let mut cur = Labelled {
        text: String::new(),
        spans: Vec::new(),
    };
    let mut len = 0usize;
    // The open span: (label, start), and whether it may still be continued.
    let mut open: Option<(String, usize)> = None;
    let finish = |cur: &mut Labelled, open: &mut Option<(String, usize)>, end: usize| {
        if let Some((l, s)) = open.take()
            && end > s
            && l != "o"
        {
            cur.spans.push((l, s, end));
        }
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            finish(&mut cur, &mut open, len);
            if !cur.text.is_empty() {
                out.push(std::mem::replace(
                    &mut cur,
                    Labelled {
                        text: String::new(),
                        spans: Vec::new(),
                    },
                ));
            }
            len = 0;
            continue;
        }
        let (token, tag) = match line.rsplit_once(' ') {
            Some((t, g)) => (t, g),
            None => continue,
        };
        let token_text: String = if token == "[UNK]" {
            "\u{fffd}".to_string()
        } else if let Some(rest) = token.strip_prefix("##") {
            rest.to_string()
        } else if token.is_empty() {
            " ".to_string()
        } else {
            token.to_string()
        };
        let n = token_text.chars().count();
        let (prefix, label) = match tag.split_once('-') {
            Some((p, l)) => (p, gold_label(l)),
            None => ("O", "o".to_string()),
        };
        let continues = token.starts_with("##")
            || match scheme {
                Scheme::Bio => prefix == "I",
                Scheme::Bmes => prefix == "M" || prefix == "E",
            };
        let same = open.as_ref().is_some_and(|(l, _)| *l == label);
        if !(continues && same) {
            finish(&mut cur, &mut open, len);
            open = Some((label, len));
        }
        cur.text.push_str(&token_text);
        len += n;
    }
    finish(&mut cur, &mut open, len);
    if !cur.text.is_empty() {
        out.push(cur);
    }
    out
}
