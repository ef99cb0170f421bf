//! The index schema: the parsed structure of each standard address as its own fields.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions,
};

/// The handles of every field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub id: Field,
    pub address: Field,
    pub kind: Field,
    pub town: Field,
    pub town_code: Field,
    pub community: Field,
    pub community_code: Field,
    /// The community's name as addresses write it (东厍村), for village addresses.
    pub village: Field,
    pub village_sound: Field,
    pub road: Field,
    pub road_stem: Field,
    pub road_sound: Field,
    pub lane: Field,
    pub number: Field,
    pub group: Field,
    pub poi: Field,
    pub poi_sound: Field,
    pub building: Field,
    pub building_id: Field,
    /// Bigrams of the road, POI and village names, for typo recall.
    pub grams: Field,
    /// Prefix keys for suggestions: `key \u{1} id`.
    pub suggest: Field,
    pub lon: Field,
    pub lat: Field,
    /// Door, building, lane and group keys under each road, compound and village
    /// ([`super::keys::door_keys`]): a door is one term, not an intersection of long lists.
    pub door: Field,
}

/// The tokenizer name of the `grams` field (whitespace-separated bigrams written by the builder).
pub(crate) const GRAMS_TOKENIZER: &str = "whitespace";

impl Fields {
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let key = STRING | STORED;
        let grams = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(GRAMS_TOKENIZER)
                .set_index_option(IndexRecordOption::Basic),
        );
        let fields = Fields {
            id: b.add_text_field("id", key.clone()),
            address: b.add_text_field("address", STORED),
            kind: b.add_text_field("kind", key.clone()),
            town: b.add_text_field("town", key.clone()),
            town_code: b.add_text_field("town_code", STORED),
            community: b.add_text_field("community", key.clone()),
            community_code: b.add_text_field("community_code", STORED),
            village: b.add_text_field("village", key.clone()),
            village_sound: b.add_text_field("village_sound", STRING),
            road: b.add_text_field("road", key.clone()),
            road_stem: b.add_text_field("road_stem", STRING),
            road_sound: b.add_text_field("road_sound", STRING),
            lane: b.add_text_field("lane", key.clone()),
            number: b.add_text_field("number", key.clone()),
            group: b.add_text_field("group", key.clone()),
            poi: b.add_text_field("poi", key.clone()),
            poi_sound: b.add_text_field("poi_sound", STRING),
            building: b.add_text_field("building", key.clone()),
            building_id: b.add_text_field("building_id", STORED),
            grams: b.add_text_field("grams", grams),
            suggest: b.add_text_field("suggest", STRING),
            lon: b.add_f64_field("lon", NumericOptions::default().set_stored()),
            lat: b.add_f64_field("lat", NumericOptions::default().set_stored()),
            door: b.add_text_field("door", STRING),
        };
        (b.build(), fields)
    }
}
