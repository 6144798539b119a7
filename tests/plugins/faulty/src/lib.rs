//! Test-only plugin that misbehaves on request, to prove the node isolates
//! it: `faulty-panic` panics (the SDK turns it into an error), `faulty-hang`
//! never answers, `faulty-garbage` answers text that is not JSON and
//! `faulty-badshape` a JSON-RPC response with a malformed error (both
//! forged below the SDK, at the ABI's message sink). Its `rpc_command` hook
//! panics for the method `faulty-trip`. `faulty-ok` behaves.

use std::time::Duration;

use abi_stable::std_types::{RResult, RString};
use lumen_sdk::abi::{MessageSink, MessageSinkBox, PluginModRef, plugin_module, sink_box};
use lumen_sdk::hooks::continue_result;
use lumen_sdk::plugin::{PluginBuilder, start_exported};
use serde_json::{Value, json};

const GARBAGE: &str = "__faulty_garbage__";
const BADSHAPE: &str = "__faulty_badshape__";

/// Build the plugin.
pub fn build() -> PluginBuilder {
    PluginBuilder::new("faulty")
        .dynamic(true)
        .method("faulty-ok", "", "Answer {ok: true}", |_, _| {
            Ok(json!({"ok": true}))
        })
        .method("faulty-panic", "", "Panic", |_, _| {
            panic!("faulty: asked to panic")
        })
        .method("faulty-hang", "", "Never answer", |_, _| {
            std::thread::sleep(Duration::from_secs(3600));
            Ok(json!({}))
        })
        .method(
            "faulty-garbage",
            "",
            "Answer text that is not JSON",
            |_, _| Ok(json!(GARBAGE)),
        )
        .method("faulty-badshape", "", "Answer a malformed error", |_, _| {
            Ok(json!(BADSHAPE))
        })
        .on_hook("rpc_command", &[], &[], |_, payload| {
            if payload["rpc_command"]["method"] == "faulty-trip" {
                panic!("faulty: rpc_command hook asked to panic");
            }
            Ok(continue_result())
        })
}

/// Sits between the SDK and the host's sink: forges the bad answers.
struct Forger(MessageSinkBox);

impl MessageSink for Forger {
    fn send(&self, message: RString) {
        let text = message.as_str();
        if text.contains(GARBAGE) {
            self.0
                .send(RString::from("{\"jsonrpc\": \"2.0\", \"id\": oops"));
        } else if text.contains(BADSHAPE) {
            let id = serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v.get("id").cloned())
                .unwrap_or(Value::Null);
            let forged = json!({"jsonrpc": "2.0", "id": id, "error": "not an object"});
            self.0.send(RString::from(forged.to_string()));
        } else {
            self.0.send(message);
        }
    }
}

extern "C" fn start(host: MessageSinkBox) -> RResult<MessageSinkBox, RString> {
    start_exported(sink_box(Forger(host)), build)
}

/// The abi_stable root module.
#[allow(unsafe_code)]
#[abi_stable::export_root_module]
fn lumen_plugin_root_module() -> PluginModRef {
    plugin_module(start)
}
