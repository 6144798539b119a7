//! Test-only plugin that misbehaves on request, to prove the node isolates
//! it: `faulty-panic` panics (the SDK turns it into an error), `faulty-hang`
//! never answers, `faulty-garbage` answers text that is not JSON and
//! `faulty-badshape` a JSON-RPC response with a malformed error (both
//! forged below the SDK, at the ABI's message sink); `faulty-die` drops the
//! host's sink, as a plugin whose runtime ended does; `faulty-block` blocks
//! the plugin's runtime thread (a handler breaking the SDK's rule). Its
//! `rpc_command` hook panics for the method `faulty-trip` and never answers
//! for `faulty-stall`. `faulty-ok` behaves.

use std::sync::Mutex;
use std::time::Duration;

use abi_stable::std_types::{RResult, RString};
use lumen_sdk::abi::{MessageSink, MessageSinkBox, PluginModRef, plugin_module, sink_box};
use lumen_sdk::hooks::continue_result;
use lumen_sdk::plugin::{PluginBuilder, start_exported};
use serde_json::{Value, json};

const GARBAGE: &str = "__faulty_garbage__";
const BADSHAPE: &str = "__faulty_badshape__";
const DIE: &str = "__faulty_die__";

/// Build the plugin.
pub fn build() -> PluginBuilder {
    PluginBuilder::new("faulty")
        .dynamic(true)
        .method("faulty-ok", "", "Answer {ok: true}", |_, _| async {
            Ok(json!({"ok": true}))
        })
        .method("faulty-panic", "", "Panic", |_, _| async {
            asked_to_panic()
        })
        .method("faulty-hang", "", "Never answer", |_, _| async {
            std::future::pending::<()>().await;
            Ok(json!({}))
        })
        .method(
            "faulty-block",
            "",
            "Block the runtime thread",
            |_, _| async {
                std::thread::sleep(Duration::from_secs(3600));
                Ok(json!({}))
            },
        )
        .method(
            "faulty-garbage",
            "",
            "Answer text that is not JSON",
            |_, _| async { Ok(json!(GARBAGE)) },
        )
        .method(
            "faulty-badshape",
            "",
            "Answer a malformed error",
            |_, _| async { Ok(json!(BADSHAPE)) },
        )
        .method(
            "faulty-die",
            "",
            "End the plugin's side of the pipe",
            |_, _| async { Ok(json!(DIE)) },
        )
        .hook_handler("rpc_command", &[], &[], |_, payload| async move {
            if payload["rpc_command"]["method"] == "faulty-trip" {
                return asked_to_panic();
            }
            if payload["rpc_command"]["method"] == "faulty-stall" {
                std::future::pending::<()>().await;
            }
            Ok(continue_result())
        })
}

fn asked_to_panic() -> Result<Value, lumen_sdk::protocol::RpcError> {
    panic!("faulty: asked to panic")
}

/// Sits between the SDK and the host's sink: forges the bad answers.
struct Forger(Mutex<Option<MessageSinkBox>>);

impl MessageSink for Forger {
    fn send(&self, message: RString) {
        let Ok(mut guard) = self.0.lock() else { return };
        let text = message.as_str();
        if text.contains(DIE) {
            // Dropping the host's sink is what the end of a runtime looks like.
            guard.take();
            return;
        }
        let Some(host) = guard.as_ref() else { return };
        if text.contains(GARBAGE) {
            host.send(RString::from("{\"jsonrpc\": \"2.0\", \"id\": oops"));
        } else if text.contains(BADSHAPE) {
            let id = serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v.get("id").cloned())
                .unwrap_or(Value::Null);
            let forged = json!({"jsonrpc": "2.0", "id": id, "error": "not an object"});
            host.send(RString::from(forged.to_string()));
        } else {
            host.send(message);
        }
    }
}

extern "C" fn start(host: MessageSinkBox) -> RResult<MessageSinkBox, RString> {
    start_exported(sink_box(Forger(Mutex::new(Some(host)))), build)
}

/// The abi_stable root module.
#[allow(unsafe_code)]
#[abi_stable::export_root_module]
fn lumen_plugin_root_module() -> PluginModRef {
    plugin_module(start)
}
