//! [`diff`]: what changed between two states of a project (two checkpoints, or a checkpoint
//! and now), per table and field.

use std::collections::BTreeMap;

use nexus_db::checkpoints;
use nexus_db::{CheckpointId, Db};
use serde::Serialize;
use serde_json::Value;

use crate::checkpoint::captured_state;
use crate::error::Result;
use crate::snapshot::{ProjectState, load};

/// The changes from one state to another, per planning table.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StateDiff {
    /// Per table (`projects`, `features`, `sub_features`, `tasks`, `requirements`), only
    /// tables with changes.
    pub tables: BTreeMap<&'static str, TableDiff>,
}

impl StateDiff {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

/// The changes of one table.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TableDiff {
    /// Ids of rows only in the second state.
    pub added: Vec<String>,
    /// Ids of rows only in the first state.
    pub removed: Vec<String>,
    /// Rows in both whose fields differ.
    pub changed: Vec<RowDiff>,
}

/// The fields of one row that differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowDiff {
    /// The row's id.
    pub id: String,
    /// Field name → (before, after), as JSON values.
    pub fields: BTreeMap<String, (Value, Value)>,
}

/// What changed from `before` to `after` in the planning rows (the derived summary and the
/// context rows are not compared).
pub fn diff(before: &ProjectState, after: &ProjectState) -> StateDiff {
    let mut tables = BTreeMap::new();
    let mut table = |name: &'static str, a: Vec<Value>, b: Vec<Value>| {
        let d = table_diff(a, b);
        if !(d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty()) {
            tables.insert(name, d);
        }
    };
    table("projects", rows([&before.project]), rows([&after.project]));
    table(
        "features",
        rows(before.features.iter().map(|f| &f.feature)),
        rows(after.features.iter().map(|f| &f.feature)),
    );
    table(
        "sub_features",
        rows(before.features.iter().flat_map(|f| &f.sub_features)),
        rows(after.features.iter().flat_map(|f| &f.sub_features)),
    );
    table("tasks", rows(&before.tasks), rows(&after.tasks));
    table("requirements", rows(&before.requirements), rows(&after.requirements));
    StateDiff { tables }
}

/// [`diff`] between two checkpoints of a project, or (`after` = `None`) between a checkpoint
/// and the project now.
pub async fn diff_checkpoints(
    db: &Db,
    before: &CheckpointId,
    after: Option<&CheckpointId>,
) -> Result<StateDiff> {
    let first = checkpoints::get(db.reader(), before).await?;
    let before_state = captured_state(&first)?;
    let after_state = match after {
        Some(id) => captured_state(&checkpoints::get(db.reader(), id).await?)?,
        None => load(db, &first.project_id).await?,
    };
    Ok(diff(&before_state, &after_state))
}

fn rows<'a, T: Serialize + 'a>(items: impl IntoIterator<Item = &'a T>) -> Vec<Value> {
    items.into_iter().map(|row| serde_json::to_value(row).unwrap_or(Value::Null)).collect()
}

fn table_diff(before: Vec<Value>, after: Vec<Value>) -> TableDiff {
    let key = |v: &Value| v.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
    let before: BTreeMap<String, Value> = before.into_iter().map(|v| (key(&v), v)).collect();
    let mut after: BTreeMap<String, Value> = after.into_iter().map(|v| (key(&v), v)).collect();
    let mut diff = TableDiff::default();
    for (id, old) in before {
        match after.remove(&id) {
            None => diff.removed.push(id),
            Some(new) => {
                let fields = field_changes(&old, &new);
                if !fields.is_empty() {
                    diff.changed.push(RowDiff { id, fields });
                }
            }
        }
    }
    diff.added = after.into_keys().collect();
    diff
}

fn field_changes(old: &Value, new: &Value) -> BTreeMap<String, (Value, Value)> {
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return BTreeMap::from([(String::new(), (old.clone(), new.clone()))]);
    };
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let (a, b) = (old.get(name).unwrap_or(&Value::Null), new.get(name).unwrap_or(&Value::Null));
            (a != b).then(|| (name.clone(), (a.clone(), b.clone())))
        })
        .collect()
}
