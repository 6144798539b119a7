//! What a plugin sends the node: requests (answered by the [`Dispatcher`],
//! without the `rpc_command` hook; datastore keys namespaced under the
//! plugin's name), `log` notifications (to tracing), and notifications of
//! the topics it declared (forwarded to subscribers; others dropped).

use std::sync::{Arc, Weak};

use lumen_sdk::host::{Incoming, LoadedPlugin};
use lumen_sdk::protocol::{RpcError as WireError, response_err, response_ok};
use serde_json::{Value, json};

use super::PluginManager;
use super::instance::Plugin;

/// Methods whose `key` is put under the plugin's name.
const DATASTORE_METHODS: [&str; 3] = ["datastore", "deldatastore", "listdatastore"];

/// Serve what `plugin` sends, until its pipe closes.
pub fn spawn(manager: Weak<PluginManager>, plugin: Arc<Plugin>, handle: &Arc<LoadedPlugin>) {
    let Some(mut rx) = handle.take_incoming() else {
        return;
    };
    tokio::spawn(async move {
        // `None`: the plugin's runtime ended; its calls already fail (the
        // instance sees the closed pipe), so nothing more comes.
        while let Some(incoming) = rx.recv().await {
            let mut msg = match incoming {
                Incoming::Message(msg) => msg,
                Incoming::Unparseable(text) => {
                    let shown: String = text.chars().take(120).collect();
                    plugin.fail(format!("sent malformed JSON: {shown:?}"));
                    continue;
                }
            };
            let method = msg
                .get("method")
                .and_then(Value::as_str)
                .map(str::to_string);
            // Taken, not cloned: params can be large.
            let params = msg
                .get_mut("params")
                .map(Value::take)
                .unwrap_or(Value::Null);
            match (method, msg.get("id").cloned()) {
                (Some(method), Some(id)) => {
                    let Some(m) = manager.upgrade() else { break };
                    let p = Arc::clone(&plugin);
                    tokio::spawn(async move { answer(&m, &p, &method, id, params).await });
                }
                (Some(method), None) => {
                    let Some(m) = manager.upgrade() else { break };
                    notification(&m, &plugin, &method, params);
                }
                _ => {
                    tracing::warn!(plugin = %plugin.name, %msg, "unexpected message from plugin; dropped")
                }
            }
        }
    });
}

async fn answer(m: &PluginManager, plugin: &Plugin, method: &str, id: Value, params: Value) {
    let namespaced = DATASTORE_METHODS.contains(&method);
    let params = if namespaced {
        namespace_key(&plugin.name, method, params)
    } else {
        params
    };
    let params = (!params.is_null()).then_some(params);
    let result = m.dispatcher().call_internal(method, params).await;
    let reply = match result {
        Ok(mut v) => {
            if namespaced {
                strip_namespace(&plugin.name, &mut v);
            }
            response_ok(&id, v)
        }
        Err(e) => response_err(&id, &WireError::from(e)),
    };
    if let Some(h) = plugin.handle() {
        h.send_raw(reply.to_string());
    }
}

fn notification(m: &PluginManager, plugin: &Plugin, method: &str, params: Value) {
    if method == "log" {
        let level = params
            .get("level")
            .and_then(Value::as_str)
            .unwrap_or("info");
        let message = params
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = plugin.name.as_str();
        match level {
            "broken" | "error" => tracing::error!(plugin = name, "{message}"),
            "unusual" | "warn" => tracing::warn!(plugin = name, "{message}"),
            "debug" | "io" | "trace" => tracing::debug!(plugin = name, "{message}"),
            _ => tracing::info!(plugin = name, "{message}"),
        }
        return;
    }
    let declared = plugin
        .manifest()
        .is_some_and(|man| man.notifications.iter().any(|n| n.method == method));
    if !declared {
        tracing::warn!(plugin = %plugin.name, topic = method, "notification of an undeclared topic; dropped");
        return;
    }
    // CLN's shape for plugin topics: the emitter and its payload.
    m.notify_raw(method, json!({ "origin": plugin.name, "payload": params }));
}

/// Put `key` under `[plugin, …]`: by position (first) or by name.
pub fn namespace_key(plugin: &str, method: &str, params: Value) -> Value {
    let prefixed = |key: Option<&Value>| -> Value {
        let mut parts = vec![Value::String(plugin.to_string())];
        match key {
            Some(Value::String(s)) => parts.push(Value::String(s.clone())),
            Some(Value::Array(a)) => parts.extend(a.iter().cloned()),
            // Bad types are left for the method to refuse.
            Some(other) if !other.is_null() => return other.clone(),
            _ => {}
        }
        Value::Array(parts)
    };
    match params {
        Value::Array(mut items) => {
            if items.is_empty() {
                if method == "listdatastore" {
                    items.push(prefixed(None));
                }
            } else {
                items[0] = prefixed(Some(&items[0]));
            }
            Value::Array(items)
        }
        Value::Object(mut map) => {
            let key = prefixed(map.get("key"));
            map.insert("key".into(), key);
            Value::Object(map)
        }
        Value::Null => json!({ "key": [plugin] }),
        other => other,
    }
}

/// Remove the `[plugin, …]` prefix from every `key` in a datastore result;
/// drop a listed entry for the namespace root itself.
pub fn strip_namespace(plugin: &str, v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(key)) = map.get_mut("key")
                && key.first().and_then(Value::as_str) == Some(plugin)
            {
                key.remove(0);
            }
            for (_, child) in map.iter_mut() {
                strip_namespace(plugin, child);
            }
            if let Some(Value::Array(entries)) = map.get_mut("datastore") {
                entries.retain(|e| {
                    e.get("key")
                        .and_then(Value::as_array)
                        .is_none_or(|k| !k.is_empty())
                });
            }
        }
        Value::Array(items) => {
            for i in items {
                strip_namespace(plugin, i);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_namespaced_and_stripped() {
        assert_eq!(
            namespace_key("p", "datastore", json!({"key": "a", "string": "x"})),
            json!({"key": ["p", "a"], "string": "x"})
        );
        assert_eq!(
            namespace_key("p", "datastore", json!([["a", "b"], "x"])),
            json!([["p", "a", "b"], "x"])
        );
        assert_eq!(
            namespace_key("p", "listdatastore", json!([])),
            json!([["p"]])
        );
        assert_eq!(
            namespace_key("p", "listdatastore", Value::Null),
            json!({"key": ["p"]})
        );
        let mut r = json!({"datastore": [{"key": ["p"]}, {"key": ["p", "a"], "string": "x"}]});
        strip_namespace("p", &mut r);
        assert_eq!(r, json!({"datastore": [{"key": ["a"], "string": "x"}]}));
    }
}
