//! Row values between SQLite and JSON: each archived row is a JSON array of its column values
//! (`null`, integer, real, text, or `{"$blob": "<hex>"}`), exact for every SQLite value (reals
//! are written with the shortest text that reads back to the same `f64`).

use serde_json::{Number, Value};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, Row, TypeInfo, ValueRef};

/// The key of the object that holds a BLOB as hex.
const BLOB_KEY: &str = "$blob";

/// The values of `row` as JSON.
pub(crate) fn row_values(row: &SqliteRow) -> Result<Vec<Value>, sqlx::Error> {
    (0..row.len()).map(|i| column_value(row, i)).collect()
}

/// One column of `row` as JSON.
fn column_value(row: &SqliteRow, i: usize) -> Result<Value, sqlx::Error> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().name().to_owned();
    Ok(match kind.as_str() {
        "INTEGER" | "BOOLEAN" => Value::from(row.try_get::<i64, _>(i)?),
        "REAL" => Number::from_f64(row.try_get::<f64, _>(i)?).map_or(Value::Null, Value::Number),
        "BLOB" => {
            let bytes: Vec<u8> = row.try_get(i)?;
            serde_json::json!({ BLOB_KEY: nexus_db::hex(&bytes) })
        }
        _ => Value::String(row.try_get::<String, _>(i)?),
    })
}

/// Binds `value` to `args`; `Err` describes a value that is no SQLite value.
pub(crate) fn bind(args: &mut SqliteArguments, value: Value) -> Result<(), String> {
    let bound = match value {
        Value::Null => args.add(None::<String>),
        Value::Bool(b) => args.add(i64::from(b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) if !n.is_f64() => args.add(i),
            (_, Some(f)) => args.add(f),
            _ => return Err(format!("number {n} out of range")),
        },
        Value::String(s) => args.add(s),
        Value::Object(map) => match map.get(BLOB_KEY).and_then(Value::as_str).and_then(from_hex) {
            Some(bytes) if map.len() == 1 => args.add(bytes),
            _ => return Err("an object that is not a BLOB".to_owned()),
        },
        Value::Array(_) => return Err("an array is not a column value".to_owned()),
    };
    bound.map_err(|e| e.to_string())
}

/// Bytes from lower- or upper-case hex.
pub(crate) fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

/// A value as text for people (CSV cells, Markdown tables): JSON text as it is stored.
pub(crate) fn display(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        assert_eq!(from_hex(&nexus_db::hex(&[0, 1, 254, 255])), Some(vec![0, 1, 254, 255]));
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }

    #[test]
    fn reals_stay_reals_in_json() -> Result<(), serde_json::Error> {
        let text = serde_json::to_string(&serde_json::json!([1.0, 1, 0.1]))?;
        let back: Vec<Value> = serde_json::from_str(&text)?;
        assert!(back[0].is_f64() && back[1].is_i64() && back[2].as_f64() == Some(0.1));
        Ok(())
    }
}
