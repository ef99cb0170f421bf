//! Reading the features of a GeoJSON document, each on its own: a feature's geometry stays JSON
//! until its reader converts it ([`Feature::geometry`], then [`super::geometry`]), so one bad
//! geometry is a problem of its feature, named by index and id, and the rest still loads.
//!
//! Two ways in: [`for_each_feature`] streams a FeatureCollection from its bytes one feature at a
//! time (a file of millions of features is never held parsed in memory); [`features_of_value`]
//! takes a small document already parsed (a request body) whole.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// One feature of a GeoJSON document, its geometry not yet parsed.
///
/// Properties keep their document order (serde_json's `preserve_order`), so a source's "first
/// property" and its column order survive.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Feature {
    /// The feature's `id` member, if any.
    #[serde(default)]
    pub id: Option<Value>,
    /// The `geometry` member as JSON (`None` when absent or `null`).
    #[serde(default)]
    pub geometry: Option<Value>,
    /// The `properties` member (`None` when absent or `null`).
    #[serde(default)]
    pub properties: Option<Map<String, Value>>,
}

impl Feature {
    /// Property `key`.
    pub fn property(&self, key: &str) -> Option<&Value> {
        self.properties.as_ref()?.get(key)
    }

    /// Property `key` as text: a non-empty string, or a number written out.
    ///
    /// # Examples
    /// ```
    /// use dizhi::gis::geojson::features::Feature;
    /// let f: Feature = serde_json::from_str(r#"{"properties":{"id":7,"name":"","z":"a"}}"#).unwrap();
    /// assert_eq!(f.text("id").as_deref(), Some("7"));
    /// assert_eq!((f.text("name"), f.text("none")), (None, None));
    /// ```
    pub fn text(&self, key: &str) -> Option<String> {
        value_text(self.property(key)?)
    }

    /// The feature's id as text: property `id`, else the feature's `id` member.
    pub fn id_text(&self) -> Option<String> {
        self.text("id")
            .or_else(|| self.id.as_ref().and_then(value_text))
    }

    /// The geometry as a GeoJSON geometry (`None` when the feature has none), or why it is not one.
    pub fn geometry(&self) -> Result<Option<geojson::Geometry>, String> {
        match &self.geometry {
            None | Some(Value::Null) => Ok(None),
            Some(v) => geojson::Geometry::deserialize(v)
                .map(Some)
                .map_err(|e| format!("invalid geometry: {e}")),
        }
    }
}

/// A JSON value as text: a non-empty string, or a number written out.
pub fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Why a stream of features ended early or was not a FeatureCollection.
#[derive(Debug)]
pub enum StreamError<E> {
    /// The bytes are not JSON, or not a GeoJSON object (a feature that is not an object, no
    /// `features` in a FeatureCollection).
    Json(serde_json::Error),
    /// The document is a GeoJSON object of another type (`Feature`, `Polygon` …), or has no type.
    /// Features it had anyway were passed on; a lone Feature is not.
    NotACollection {
        /// Its `type`, empty when it has none.
        found: String,
    },
    /// The caller's function returned an error; the stream stopped there.
    Stopped(E),
}

/// Streams the features of a GeoJSON FeatureCollection to `f` with their 0-based index, one at
/// a time. Returns how many there were. A JSON error ends the stream; so does the first error
/// `f` returns.
///
/// # Examples
/// ```
/// use dizhi::gis::geojson::features::{for_each_feature, StreamError};
/// let text = br#"{"type":"FeatureCollection","features":[
///     {"type":"Feature","id":"F1","properties":{"name":"a"},"geometry":{"type":"Point","coordinates":[121.1,31.1]}},
///     {"type":"Feature","properties":{"id":"F2"},"geometry":{"type":"Point","coordinates":"oops"}}]}"#;
/// let mut seen = vec![];
/// let n = for_each_feature(text, |i, f| {
///     seen.push((i, f.id_text(), f.geometry().is_ok()));
///     Ok::<(), ()>(())
/// })
/// .unwrap();
/// assert_eq!(n, 2);
/// assert_eq!(seen, [(0, Some("F1".into()), true), (1, Some("F2".into()), false)]);
///
/// let single = br#"{"type":"Feature","properties":{},"geometry":null}"#;
/// let e = for_each_feature(single, |_, _| Ok::<(), ()>(())).unwrap_err();
/// assert!(matches!(e, StreamError::NotACollection { found } if found == "Feature"));
/// ```
pub fn for_each_feature<E>(
    bytes: &[u8],
    mut f: impl FnMut(usize, Feature) -> Result<(), E>,
) -> Result<usize, StreamError<E>> {
    let mut stopped = None;
    let mut kind = None;
    let result = {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let visitor = CollectionVisitor {
            f: &mut f,
            stopped: &mut stopped,
            kind: &mut kind,
        };
        de::Deserializer::deserialize_map(&mut de, visitor).and_then(|n| de.end().map(|()| n))
    };
    if let Some(e) = stopped {
        return Err(StreamError::Stopped(e));
    }
    let n = result.map_err(StreamError::Json)?;
    if kind.as_deref() != Some("FeatureCollection") {
        return Err(StreamError::NotACollection {
            found: kind.unwrap_or_default(),
        });
    }
    Ok(n)
}

struct CollectionVisitor<'a, E> {
    f: &'a mut dyn FnMut(usize, Feature) -> Result<(), E>,
    stopped: &'a mut Option<E>,
    kind: &'a mut Option<String>,
}

impl<'de, E> Visitor<'de> for CollectionVisitor<'_, E> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let mut count = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => *self.kind = Some(map.next_value()?),
                "features" => {
                    count = Some(map.next_value_seed(FeaturesSeed {
                        f: &mut *self.f,
                        stopped: &mut *self.stopped,
                    })?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (count, self.kind.as_deref()) {
            (Some(n), _) => Ok(n),
            // Another type of object: the caller says what it expected.
            (None, Some(kind)) if kind != "FeatureCollection" => Ok(0),
            (None, _) => Err(de::Error::missing_field("features")),
        }
    }
}

struct FeaturesSeed<'a, E> {
    f: &'a mut dyn FnMut(usize, Feature) -> Result<(), E>,
    stopped: &'a mut Option<E>,
}

impl<'de, E> DeserializeSeed<'de> for FeaturesSeed<'_, E> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, E> Visitor<'de> for FeaturesSeed<'_, E> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of features")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut i = 0;
        while let Some(feature) = seq.next_element::<Feature>()? {
            if let Err(e) = (self.f)(i, feature) {
                *self.stopped = Some(e);
                return Err(de::Error::custom("stopped by the reader of the features"));
            }
            i += 1;
        }
        Ok(i)
    }
}

/// The features of a small GeoJSON document already parsed: a FeatureCollection's, a Feature, or
/// a bare geometry as one feature with no id or properties.
///
/// # Examples
/// ```
/// use dizhi::gis::geojson::features::features_of_value;
/// let polygon = serde_json::json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]});
/// let fs = features_of_value(&polygon).unwrap();
/// assert_eq!(fs.len(), 1);
/// assert!(fs[0].geometry().unwrap().is_some());
/// let collection = serde_json::json!({"type": "FeatureCollection", "features": [polygon]});
/// assert!(features_of_value(&collection).unwrap_err().contains("not a Feature"));
/// ```
pub fn features_of_value(value: &Value) -> Result<Vec<Feature>, String> {
    let one = |v: &Value| Feature::deserialize(v).map_err(|e| e.to_string());
    match value.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {
            let features = value
                .get("features")
                .and_then(Value::as_array)
                .ok_or("a FeatureCollection needs an array of features")?;
            features
                .iter()
                .enumerate()
                .map(|(i, f)| match f.get("type").and_then(Value::as_str) {
                    Some("Feature") => one(f).map_err(|e| format!("feature {i}: {e}")),
                    _ => Err(format!("feature {i} is not a Feature")),
                })
                .collect()
        }
        Some("Feature") => Ok(vec![one(value)?]),
        Some(kind) if is_geometry_type(kind) => Ok(vec![Feature {
            geometry: Some(value.clone()),
            ..Feature::default()
        }]),
        Some(other) => Err(format!("{other:?} is not a GeoJSON type")),
        None => Err("not a GeoJSON object (no `type`)".to_string()),
    }
}

/// Whether a GeoJSON `type` names a geometry (rather than a Feature or FeatureCollection).
pub(crate) fn is_geometry_type(kind: &str) -> bool {
    matches!(
        kind,
        "Point"
            | "MultiPoint"
            | "LineString"
            | "MultiLineString"
            | "Polygon"
            | "MultiPolygon"
            | "GeometryCollection"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_keep_their_document_order() {
        let f: Feature = serde_json::from_str(r#"{"properties":{"z":1,"a":"x"}}"#).unwrap();
        let props = f.properties.unwrap();
        assert_eq!(serde_json::to_string(&props).unwrap(), r#"{"z":1,"a":"x"}"#);
        assert_eq!(props.keys().next().map(String::as_str), Some("z"));
    }

    #[test]
    fn a_failing_reader_stops_the_stream_with_its_error() {
        let text = br#"{"type":"FeatureCollection","features":[{},{},{}]}"#;
        let mut seen = 0;
        let e = for_each_feature(text, |i, _| {
            seen += 1;
            if i == 1 { Err("full") } else { Ok(()) }
        })
        .unwrap_err();
        assert!(matches!(e, StreamError::Stopped("full")));
        assert_eq!(seen, 2);
    }

    #[test]
    fn broken_json_and_missing_features_are_json_errors() {
        let e = for_each_feature(br#"{"type":"FeatureCollection","features":[{"#, |_, _| {
            Ok::<(), ()>(())
        })
        .unwrap_err();
        assert!(matches!(e, StreamError::Json(_)));
        let e = for_each_feature(br#"{"type":"FeatureCollection"}"#, |_, _| Ok::<(), ()>(()))
            .unwrap_err();
        assert!(matches!(e, StreamError::Json(e) if e.to_string().contains("features")));
    }
}
