//! `rpc-guard`: refuses RPC methods by name.
//!
//! Option `rpc-guard-deny`: a comma-separated list of method names (default
//! `stop`). On the `rpc_command` hook, a call to a listed method is answered
//! with the error [`PLUGIN_ERROR`] (`-3`, Core Lightning's code for an error
//! from a plugin) and the message `"<method>: denied by rpc-guard"`,
//! without running it; every other call continues.

use std::collections::HashSet;

use lumen_sdk::error_codes::PLUGIN_ERROR;
use lumen_sdk::hooks::{RpcCommand, RpcCommandResult};
use lumen_sdk::plugin::PluginBuilder;
use lumen_sdk::protocol::{OptionType, RpcError};
use serde_json::json;

/// The option naming the denied methods.
pub const DENY_OPTION: &str = "rpc-guard-deny";

/// Parse the deny list: comma-separated, blanks trimmed, empties dropped.
pub fn parse_deny_list(raw: &str) -> HashSet<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .collect()
}

/// Build the plugin.
pub fn build() -> PluginBuilder {
    PluginBuilder::new("rpc-guard")
        .option(
            DENY_OPTION,
            OptionType::String,
            Some(json!("stop")),
            "Comma-separated RPC methods to refuse",
        )
        .on_hook::<RpcCommand, _, _>(&[], &[], |ctx, call| async move {
            // Parsed per call: the list is short, and this keeps the plugin
            // stateless (a restarted plugin re-reads its option).
            let deny = parse_deny_list(ctx.option_str(DENY_OPTION).unwrap_or(""));
            let method = call.rpc_command.method;
            if deny.contains(&method) {
                return Ok(RpcCommandResult::ReturnError(RpcError::new(
                    PLUGIN_ERROR,
                    format!("{method}: denied by rpc-guard"),
                )));
            }
            Ok(RpcCommandResult::Continue)
        })
}

lumen_sdk::export_plugin!(build);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_list_parsing() {
        let d = parse_deny_list(" stop, withdraw ,,close,");
        assert_eq!(d.len(), 3);
        for m in ["stop", "withdraw", "close"] {
            assert!(d.contains(m), "{m}");
        }
        assert!(parse_deny_list("").is_empty());
        assert!(parse_deny_list(" , ").is_empty());
    }
}
