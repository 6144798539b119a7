//! Regtest-only developer methods on the embedded chain.

use std::str::FromStr;
use std::sync::Arc;

use serde_json::json;

use super::{Dispatcher, Method, ParamSpec, RpcError};
use crate::chain::embedded::source::EmbeddedChain;

/// Most blocks one `dev-mine` call mines.
pub const MAX_DEV_MINE: u32 = 1000;

/// Register `dev-mine` and `dev-invalidateblock`. With a wallet, `dev-mine`'s
/// address is optional and defaults to a new wallet p2tr address.
pub fn register(
    dispatcher: &Dispatcher,
    chain: Arc<EmbeddedChain>,
    wallet: Option<Arc<crate::wallet::Wallet>>,
) -> Result<(), String> {
    register_invalidate(dispatcher, chain.clone())?;
    let description = format!(
        "Mine {{blocks}} (1..{MAX_DEV_MINE}) blocks on the embedded regtest chain, paying the coinbase to {{address}} (default: a new wallet p2tr address)."
    );
    dispatcher.register(Method::new(
        "dev-mine",
        &[ParamSpec::req("blocks"), ParamSpec::opt("address")],
        &description,
        move |p| {
            let chain = chain.clone();
            let wallet = wallet.clone();
            async move {
                let blocks: u32 = p.require("blocks")?;
                if blocks == 0 || blocks > MAX_DEV_MINE {
                    return Err(RpcError::invalid_param(
                        "blocks",
                        format!("must be 1..{MAX_DEV_MINE}, got {blocks}"),
                    ));
                }
                let text: String = match (p.get::<String>("address")?, &wallet) {
                    (Some(t), _) => t,
                    (None, Some(w)) => w
                        .new_address(crate::wallet::AddrKind::P2tr)
                        .await
                        .map_err(|e| RpcError::internal(format!("wallet address: {e}")))?
                        .to_string(),
                    (None, None) => {
                        return Err(RpcError::invalid_param(
                            "address",
                            "missing required parameter (no wallet to pay)",
                        ));
                    }
                };
                let address = bitcoin::Address::from_str(&text)
                    .map_err(|e| {
                        RpcError::invalid_param(
                            "address",
                            format!("'{text}' is not an address: {e}"),
                        )
                    })?
                    .require_network(bitcoin::Network::Regtest)
                    .map_err(|_| {
                        RpcError::invalid_param(
                            "address",
                            format!("'{text}' is not a regtest address"),
                        )
                    })?;
                let payout = address.script_pubkey();
                let (hashes, height) = tokio::task::spawn_blocking(move || {
                    let hashes = chain.mine(blocks, &payout)?;
                    let height = chain.with_chain(|c| c.tip_height())?;
                    Ok::<_, crate::chain::embedded::source::EmbeddedError>((hashes, height))
                })
                .await
                .map_err(|e| RpcError::internal(format!("mining task failed: {e}")))?
                .map_err(|e| RpcError::internal(format!("mining failed: {e}")))?;
                Ok(json!({
                    "blockheight": height,
                    "blockhashes": hashes.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
                }))
            }
        },
    ))
}

/// `dev-invalidateblock blockhash`: disconnect the best chain down to and
/// including `blockhash`; its transactions return to the mempool where still
/// valid. Mine afterwards to build the competing branch.
fn register_invalidate(dispatcher: &Dispatcher, chain: Arc<EmbeddedChain>) -> Result<(), String> {
    dispatcher.register(Method::new(
        "dev-invalidateblock",
        &[ParamSpec::req("blockhash")],
        "Disconnect the embedded chain down to and including {blockhash} (regtest reorg testing).",
        move |p| {
            let chain = chain.clone();
            async move {
                let text: String = p.require("blockhash")?;
                let hash = bitcoin::BlockHash::from_str(&text).map_err(|e| {
                    RpcError::invalid_param(
                        "blockhash",
                        format!("'{text}' is not a block hash: {e}"),
                    )
                })?;
                let (disconnected, height) = tokio::task::spawn_blocking(move || {
                    let n = chain.invalidate(&hash)?;
                    let height = chain.with_chain(|c| c.tip_height())?;
                    Ok::<_, crate::chain::embedded::source::EmbeddedError>((n, height))
                })
                .await
                .map_err(|e| RpcError::internal(format!("invalidate task failed: {e}")))?
                .map_err(|e| RpcError::invalid_param("blockhash", e))?;
                Ok(json!({ "disconnected": disconnected, "blockheight": height }))
            }
        },
    ))
}
