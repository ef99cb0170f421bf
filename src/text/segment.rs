//! Segmentation: jieba-rs with a user dictionary generated from the address dictionaries.

use std::io::BufReader;

use jieba_rs::Jieba;

use crate::Dictionaries;

/// One segment of a text: the word and its char span in that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let seg = dizhi::text::Segmenter::new(&dicts);
/// let segments = seg.segments("华腾路1288弄");
/// assert_eq!(segments[0].word, "华腾路");
/// assert_eq!((segments[0].start, segments[0].end), (0, 3));
/// assert_eq!(seg.words("华腾路1288弄").concat(), "华腾路1288弄");
/// ```
pub struct Segment<'a> {
    /// The segment's text.
    pub word: &'a str,
    /// First char (inclusive).
    pub start: usize,
    /// Char after the segment (exclusive).
    pub end: usize,
}

/// jieba with the project's dictionaries, built once and shared.
///
/// Segments concatenate back to the input: no character is lost or duplicated.
///
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let seg = dizhi::text::Segmenter::new(&dicts);
/// let words: Vec<&str> = seg.segments("青浦区华新镇华腾路").iter().map(|s| s.word).collect();
/// assert_eq!(words.concat(), "青浦区华新镇华腾路");
/// assert!(words.contains(&"华腾路"));
/// ```
pub struct Segmenter {
    jieba: Jieba,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter").finish_non_exhaustive()
    }
}

impl Segmenter {
    /// jieba's default dictionary plus the user dictionary from [`Dictionaries::jieba_user_dict`]
    /// and `extra_words` (one word per item).
    /// # Examples
    /// ```
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let seg = dizhi::text::Segmenter::with_words(&dicts, ["大发融悦"]);
    /// assert!(seg.words("大发融悦3号").contains(&"大发融悦"));
    /// ```
    pub fn with_words<'a>(
        dicts: &Dictionaries,
        extra_words: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut jieba = Jieba::new();
        let user = dicts.jieba_user_dict();
        // The generated dictionary is well formed by construction (tested in dictionaries), so a
        // failure here can only drop words, never corrupt segmentation; ignore it.
        let _ = jieba.load_dict(&mut BufReader::new(user.as_bytes()));
        for w in extra_words {
            jieba.add_word(w, Some(100_000), None);
        }
        Segmenter { jieba }
    }

    /// jieba with the user dictionary from [`Dictionaries::jieba_user_dict`].
    /// # Examples
    /// ```
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let seg = dizhi::text::Segmenter::new(&dicts);
    /// let segments = seg.segments("华腾路1288弄");
    /// assert_eq!(segments[0].word, "华腾路");
    /// assert_eq!((segments[0].start, segments[0].end), (0, 3));
    /// assert_eq!(seg.words("华腾路1288弄").concat(), "华腾路1288弄");
    /// ```
    pub fn new(dicts: &Dictionaries) -> Self {
        Self::with_words(dicts, [])
    }

    /// The segments of `text`, in order, with char spans (no HMM: faster, and unknown names are
    /// assembled by the parser's suffix rules instead).
    /// # Examples
    /// ```
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let seg = dizhi::text::Segmenter::new(&dicts);
    /// let segments = seg.segments("华腾路1288弄");
    /// assert_eq!(segments[0].word, "华腾路");
    /// assert_eq!((segments[0].start, segments[0].end), (0, 3));
    /// assert_eq!(seg.words("华腾路1288弄").concat(), "华腾路1288弄");
    /// ```
    pub fn segments<'a>(&self, text: &'a str) -> Vec<Segment<'a>> {
        self.jieba
            .cut(text, false)
            .into_iter()
            .map(|t| Segment {
                word: t.word,
                start: t.start,
                end: t.end,
            })
            .collect()
    }

    /// Just the words of `text`.
    /// # Examples
    /// ```
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let seg = dizhi::text::Segmenter::new(&dicts);
    /// let segments = seg.segments("华腾路1288弄");
    /// assert_eq!(segments[0].word, "华腾路");
    /// assert_eq!((segments[0].start, segments[0].end), (0, 3));
    /// assert_eq!(seg.words("华腾路1288弄").concat(), "华腾路1288弄");
    /// ```
    pub fn words<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.jieba
            .cut(text, false)
            .into_iter()
            .map(|t| t.word)
            .collect()
    }
}
