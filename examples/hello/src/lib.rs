//! `hello`: the smallest Lumen plugin.
//!
//! - option `hello-greeting` (string, default `"hi"`);
//! - method `hello [name]` → `{"greeting": "<greeting> <name>"}`;
//! - method `panic` panics (the SDK turns it into a JSON-RPC error and the
//!   plugin keeps serving);
//! - method `sleep ms` waits `ms` milliseconds before answering (to exercise
//!   the host's request timeout; other calls are served meanwhile);
//! - method `hello-node` calls the node's `getinfo` back through the typed
//!   node client and returns its id;
//! - method `hello-counts` returns how many `block_added` and `connect`
//!   notifications it has seen.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lumen_sdk::api::NodeApiClient;
use lumen_sdk::plugin::PluginBuilder;
use lumen_sdk::protocol::{OptionType, RpcError};
use serde_json::{Value, json};

/// Build the plugin.
pub fn build() -> PluginBuilder {
    let blocks = Arc::new(AtomicU64::new(0));
    let connects = Arc::new(AtomicU64::new(0));
    let (b, c) = (blocks.clone(), connects.clone());
    PluginBuilder::new("hello")
        .option(
            "hello-greeting",
            OptionType::String,
            Some(json!("hi")),
            "What to greet with",
        )
        .method("hello", "[name]", "Say hello", |ctx, params| async move {
            let name = match &params {
                Value::Array(a) => a.first().cloned(),
                Value::Object(o) => o.get("name").cloned(),
                _ => None,
            };
            let name = match name {
                None | Some(Value::Null) => "world".to_string(),
                Some(Value::String(s)) => s,
                Some(other) => {
                    return Err(RpcError::invalid_params(format!(
                        "name must be a string, got {other}"
                    )));
                }
            };
            let greeting = ctx.option_str("hello-greeting").unwrap_or("hi");
            Ok(json!({ "greeting": format!("{greeting} {name}") }))
        })
        .method("panic", "", "Panic (to prove isolation)", |_, _| async {
            asked_to_panic()
        })
        .method(
            "sleep",
            "ms",
            "Answer after ms milliseconds",
            |_, params| async move {
                let ms = params
                    .get(0)
                    .or_else(|| params.get("ms"))
                    .and_then(Value::as_u64)
                    .ok_or_else(|| RpcError::invalid_params("ms: integer required"))?;
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(json!({}))
            },
        )
        .method(
            "hello-node",
            "",
            "Ask the node who it is",
            |ctx, _| async move {
                let info = ctx.node().getinfo().await?;
                Ok(json!({ "id": info.id, "blockheight": info.blockheight }))
            },
        )
        .method("hello-counts", "", "Notifications seen", move |_, _| {
            let (b, c) = (b.load(Ordering::Relaxed), c.load(Ordering::Relaxed));
            async move { Ok(json!({ "block_added": b, "connect": c })) }
        })
        .on_notification("block_added", move |_, _, _| {
            blocks.fetch_add(1, Ordering::Relaxed);
            async {}
        })
        .on_notification("connect", move |_, _, _| {
            connects.fetch_add(1, Ordering::Relaxed);
            async {}
        })
}

fn asked_to_panic() -> Result<Value, RpcError> {
    panic!("hello plugin: asked to panic")
}

lumen_sdk::export_plugin!(build);
