//! One JSONL line → one [`NewEntry`]: the common on-disk form of agent logs.
//!
//! A line is a JSON object with `role` (`system`, `user`, `assistant`, `tool`) and `content`
//! (a string, or a list of blocks whose `text` fields are joined), either at the top level or
//! under `message` (chat-log form). Recognised besides: `tool_name` (or `name`),
//! `tool_call_id`, `input_tokens`/`prompt_tokens` and `output_tokens`/`completion_tokens`
//! (also inside `usage`), and `timestamp`/`created_at` as epoch milliseconds. Every other
//! field is kept in the entry's metadata.

use nexus_db::Timestamp;
use nexus_db::transcripts::{NewEntry, Role};
use serde_json::{Map, Value};

/// Reads one line (already known not to be blank).
pub(crate) fn entry(line: &str) -> Result<NewEntry, String> {
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut object) = value else {
        return Err("not a JSON object".to_owned());
    };
    // Chat-log form: the message is nested; its fields win, the envelope's go to metadata.
    if let Some(Value::Object(message)) = object.remove("message") {
        for (key, value) in message {
            object.insert(key, value);
        }
    }
    let role = match object.remove("role") {
        Some(Value::String(role)) => role.parse::<Role>()?,
        Some(other) => return Err(format!("`role` is not a string: {other}")),
        None => return Err("no `role`".to_owned()),
    };
    let content = match object.remove("content") {
        Some(Value::String(text)) => text,
        Some(Value::Array(blocks)) => blocks_text(&blocks),
        Some(Value::Null) | None => String::new(),
        Some(other) => return Err(format!("`content` is neither text nor a list of blocks: {other}")),
    };
    let mut entry = NewEntry::new(role, content);
    entry.tool_name = take_string(&mut object, &["tool_name", "name"]);
    entry.tool_call_id = take_string(&mut object, &["tool_call_id"]);
    let mut usage = match object.remove("usage") {
        Some(Value::Object(usage)) => usage,
        Some(other) => {
            object.insert("usage".to_owned(), other);
            Map::new()
        }
        None => Map::new(),
    };
    entry.input_tokens = take_count(&mut object, &["input_tokens", "prompt_tokens"])
        .or_else(|| take_count(&mut usage, &["input_tokens", "prompt_tokens"]));
    entry.output_tokens = take_count(&mut object, &["output_tokens", "completion_tokens"])
        .or_else(|| take_count(&mut usage, &["output_tokens", "completion_tokens"]));
    if !usage.is_empty() {
        object.insert("usage".to_owned(), Value::Object(usage));
    }
    entry.created_at = take_count(&mut object, &["timestamp", "created_at"]).map(Timestamp::from_millis);
    entry.metadata = (!object.is_empty()).then_some(Value::Object(object));
    Ok(entry)
}

fn blocks_text(blocks: &[Value]) -> String {
    let texts: Vec<&str> = blocks
        .iter()
        .filter_map(|b| match b {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("text").and_then(Value::as_str),
            _ => None,
        })
        .collect();
    texts.join("\n")
}

fn take_string(object: &mut Map<String, Value>, keys: &[&str]) -> Option<String> {
    for key in keys {
        if let Some(Value::String(_)) = object.get(*key)
            && let Some(Value::String(s)) = object.remove(*key)
        {
            return Some(s);
        }
    }
    None
}

fn take_count(object: &mut Map<String, Value>, keys: &[&str]) -> Option<i64> {
    for key in keys {
        if let Some(n) = object.get(*key).and_then(Value::as_i64).filter(|n| *n >= 0) {
            object.remove(*key);
            return Some(n);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_chat_log_forms() -> Result<(), String> {
        let plain = entry(r#"{"role":"user","content":"hi","timestamp":5,"mood":"ok"}"#)?;
        assert_eq!((plain.role, plain.content.as_str()), (Role::User, "hi"));
        assert_eq!(plain.created_at, Some(Timestamp::from_millis(5)));
        assert_eq!(plain.metadata, Some(serde_json::json!({"mood": "ok"})));
        let chat = entry(
            r#"{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],"usage":{"input_tokens":3,"output_tokens":4}}}"#,
        )?;
        assert_eq!(
            (chat.content.as_str(), chat.input_tokens, chat.output_tokens),
            ("a\nb", Some(3), Some(4))
        );
        assert_eq!(chat.metadata, Some(serde_json::json!({"type": "assistant"})));
        assert!(entry(r#"{"role":"robot","content":"x"}"#).is_err());
        assert!(entry("[1,2]").is_err());
        Ok(())
    }
}
