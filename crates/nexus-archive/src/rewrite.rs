//! Copy-mode imports: every archived id gets a fresh one, and every reference to an archived
//! id is rewritten — in id columns (`id`, `*_id`, `*_by`) and inside JSON values (task
//! dependencies, checkpoint states, session data), so the copy points only at itself.

use std::collections::HashMap;

use serde_json::Value;

/// Old id → new id, for every archived row of the projects imported as copies.
#[derive(Debug, Default)]
pub(crate) struct IdMap(HashMap<String, String>);

impl IdMap {
    /// Gives `old` a fresh id (once).
    pub(crate) fn assign(&mut self, old: &str) {
        self.0.entry(old.to_owned()).or_insert_with(nexus_db::new_id);
    }

    /// Maps `old` to `new`.
    pub(crate) fn insert(&mut self, old: &str, new: &str) {
        self.0.insert(old.to_owned(), new.to_owned());
    }

    /// The new id of `old`, or `old` when it is not an archived id.
    pub(crate) fn get<'a>(&'a self, old: &'a str) -> &'a str {
        self.0.get(old).map_or(old, String::as_str)
    }

    /// Rewrites the references in `value`, a value of column `column`.
    pub(crate) fn rewrite(&self, column: &str, value: &mut Value) {
        let Value::String(text) = value else { return };
        if is_reference(column) {
            if let Some(new) = self.0.get(text.as_str()) {
                *text = new.clone();
            }
        } else if text.starts_with(['[', '{'])
            && let Ok(mut json) = serde_json::from_str::<Value>(text)
            && self.rewrite_json(&mut json)
        {
            *text = json.to_string();
        }
    }

    /// Rewrites every string of `json` that is an archived id; true when one was.
    fn rewrite_json(&self, json: &mut Value) -> bool {
        match json {
            Value::String(s) => match self.0.get(s.as_str()) {
                Some(new) => {
                    *s = new.clone();
                    true
                }
                None => false,
            },
            Value::Array(items) => items.iter_mut().fold(false, |changed, v| self.rewrite_json(v) | changed),
            Value::Object(map) => map.values_mut().fold(false, |changed, v| self.rewrite_json(v) | changed),
            _ => false,
        }
    }
}

/// Columns that hold a row's id or a reference to one.
fn is_reference(column: &str) -> bool {
    column == "id" || column.ends_with("_id") || column.ends_with("_by")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_json_are_rewritten_other_text_is_not() {
        let mut map = IdMap::default();
        map.assign("t1");
        let new = map.get("t1").to_owned();
        assert_ne!(new, "t1");
        let mut id = Value::from("t1");
        map.rewrite("task_id", &mut id);
        assert_eq!(id, Value::from(new.as_str()));
        let mut deps = Value::from(r#"["t1","t9"]"#);
        map.rewrite("depends_on", &mut deps);
        assert_eq!(deps, Value::from(format!(r#"["{new}","t9"]"#)));
        let mut name = Value::from("t1");
        map.rewrite("name", &mut name);
        assert_eq!(name, Value::from("t1"));
    }
}
