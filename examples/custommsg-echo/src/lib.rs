//! `custommsg-echo`: answers custom peer messages.
//!
//! Declares the odd custom message types [`ECHO_REQUEST`] (32769) and
//! [`ECHO_REPLY`] (32771) and registers for the `custommsg` hook. When a peer
//! sends an [`ECHO_REQUEST`], the plugin sends the same body back to that
//! peer as an [`ECHO_REPLY`] with `sendcustommsg`, then answers the hook with
//! `continue`. Replies and other types are left alone (so two echo plugins
//! never ping-pong), as are payloads that are not hex or too short.

use std::time::Duration;

use lumen_sdk::hooks::{CustomMsg, CustomMsgResult, encode_custom_msg};
use lumen_sdk::jsonrpsee::core::client::Error as ClientError;
use lumen_sdk::node_calls::PluginApiClient;
use lumen_sdk::plugin::PluginBuilder;

/// The message type this plugin echoes.
pub const ECHO_REQUEST: u16 = 32769;
/// The message type of its answers.
pub const ECHO_REPLY: u16 = 32771;

/// How long the plugin waits for the node to queue a reply.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Build the plugin.
pub fn build() -> PluginBuilder {
    PluginBuilder::new("custommsg-echo")
        .custom_message(ECHO_REQUEST)
        .custom_message(ECHO_REPLY)
        .dynamic(true)
        .on_hook::<CustomMsg, _, _>(&[], &[], |ctx, msg| async move {
            let Some((msg_type, body)) = msg.decode() else {
                ctx.log(
                    "unusual",
                    &format!("custommsg from {}: payload is not a message", msg.peer_id),
                );
                return Ok(CustomMsgResult::Continue);
            };
            if msg_type != ECHO_REQUEST {
                return Ok(CustomMsgResult::Continue);
            }
            let reply = encode_custom_msg(ECHO_REPLY, &body);
            let node = ctx.node_with_timeout(SEND_TIMEOUT);
            if let Err(e) = node.sendcustommsg(msg.peer_id.clone(), reply).await {
                let e = match e {
                    ClientError::RequestTimeout => {
                        format!("the node did not answer within {SEND_TIMEOUT:?}")
                    }
                    other => other.to_string(),
                };
                ctx.log("unusual", &format!("echo to {} failed: {e}", msg.peer_id));
            }
            Ok(CustomMsgResult::Continue)
        })
}

lumen_sdk::export_plugin!(build);
