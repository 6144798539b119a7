//! What the Bitcoin Core RPC client (`bitcoind`) and the embedded chain's
//! server (`server`) share: Core's error codes and HTTP basic auth.

use base64::Engine as _;

/// Bitcoin Core's RPC error codes (`src/rpc/protocol.h`) that Lumen sends or
/// reacts to.
pub mod codes {
    /// Generic.
    pub const MISC_ERROR: i64 = -1;
    /// Wrong type.
    pub const TYPE_ERROR: i64 = -3;
    /// Unknown block, transaction or key.
    pub const INVALID_ADDRESS_OR_KEY: i64 = -5;
    /// Bad parameter value (e.g. a height above the tip).
    pub const INVALID_PARAMETER: i64 = -8;
    /// Not decodable.
    pub const DESERIALIZATION_ERROR: i64 = -22;
    /// Missing inputs, fee too high.
    pub const VERIFY_ERROR: i64 = -25;
    /// Mempool policy or consensus rejection.
    pub const VERIFY_REJECTED: i64 = -26;
    /// Already confirmed.
    pub const VERIFY_ALREADY_IN_UTXO_SET: i64 = -27;
    /// Core is still starting (loading blocks, verifying).
    pub const IN_WARMUP: i64 = -28;
    /// Not JSON-RPC.
    pub const INVALID_REQUEST: i64 = -32600;
    /// Unknown method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Bad JSON.
    pub const PARSE_ERROR: i64 = -32700;
}

/// The `Authorization` header value for `user:password`.
pub fn basic_auth(user_colon_password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(user_colon_password);
    format!("Basic {token}")
}
