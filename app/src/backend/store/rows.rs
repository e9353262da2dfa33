//! Row helpers every backend uses the same way (the SQL differs by dialect; these do not).
use crate::domain::abilities::{Ability, AbilitySet};

/// Abilities from stored codes; codes this version does not know (written by a newer one)
/// grant nothing here.
pub(crate) fn abilities_from(codes: &[String]) -> AbilitySet {
    codes.iter().filter_map(|c| Ability::parse(c)).collect()
}

/// Rows of (key, ability code) grouped into sets.
pub(crate) fn group_abilities<K: std::hash::Hash + Eq>(
    rows: Vec<(K, String)>,
) -> std::collections::HashMap<K, AbilitySet> {
    let mut m: std::collections::HashMap<K, AbilitySet> = std::collections::HashMap::new();
    for (k, code) in rows {
        if let Some(a) = Ability::parse(&code) {
            m.entry(k).or_default().insert(a);
        }
    }
    m
}

/// `%text%` for `LIKE ... ESCAPE '\'`, with the pattern characters of `s` escaped.
pub(crate) fn like_pattern(s: &str) -> String {
    let escaped = s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}
