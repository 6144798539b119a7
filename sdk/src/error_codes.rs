//! Stable JSON-RPC error codes.
//!
//! The JSON-RPC 2.0 codes keep their standard meaning; node-specific codes use
//! Core Lightning's numbers where a counterpart exists, so that tools written
//! for CLN read our errors correctly. A code, once published, never changes
//! meaning.

/// The request was not valid JSON.
pub const PARSE_ERROR: i32 = -32700;
/// Valid JSON, but not a JSON-RPC request object.
pub const INVALID_REQUEST: i32 = -32600;
/// No such method.
pub const METHOD_NOT_FOUND: i32 = -32601;
/// A parameter is missing, unknown, or has a bad value.
pub const INVALID_PARAMS: i32 = -32602;
/// The node failed internally (store error, …); the message says what.
pub const INTERNAL_ERROR: i32 = -32603;

/// `deldatastore`: the key does not exist.
pub const DATASTORE_DEL_DOES_NOT_EXIST: i32 = 1200;
/// `deldatastore`: the key exists with another generation.
pub const DATASTORE_DEL_WRONG_GENERATION: i32 = 1201;
/// `datastore`: the key exists and the mode says it must not.
pub const DATASTORE_UPDATE_ALREADY_EXISTS: i32 = 1202;
/// `datastore`: the key does not exist and the mode says it must.
pub const DATASTORE_UPDATE_DOES_NOT_EXIST: i32 = 1203;
/// `datastore`: the key exists with another generation.
pub const DATASTORE_UPDATE_WRONG_GENERATION: i32 = 1204;
/// `datastore`: the key has children, so it cannot hold a value.
pub const DATASTORE_UPDATE_HAS_CHILDREN: i32 = 1205;
/// `datastore`: a parent of the key holds a value, so it cannot have children.
pub const DATASTORE_UPDATE_NO_CHILDREN: i32 = 1206;
/// `datastore`: the value is larger than the node stores (see the datastore docs).
pub const DATASTORE_VALUE_TOO_LARGE: i32 = 1207;

/// A peer command named a peer that is not connected (Core Lightning's
/// generic `-1`).
pub const PEER_NOT_CONNECTED: i32 = -1;
/// `connect`: no address given and none known.
pub const CONNECT_NO_KNOWN_ADDRESS: i32 = 400;
/// `connect`: every address failed (TCP, handshake or `init`).
pub const CONNECT_ALL_ADDRESSES_FAILED: i32 = 401;

/// A plugin refused or failed the call: it answered malformed JSON,
/// panicked, could not be loaded, refused `init`, or an `rpc_command` hook
/// denied the method (Core Lightning's `PLUGIN_ERROR`).
pub const PLUGIN_ERROR: i32 = -3;
/// The plugin serving this method has failed or was stopped; the message
/// says why (Core Lightning's `PLUGIN_TERMINATED`).
pub const PLUGIN_TERMINATED: i32 = -4;
/// The node is shutting down and refuses new calls (Core Lightning's
/// `LIGHTNINGD_SHUTDOWN`).
pub const LIGHTNINGD_SHUTDOWN: i32 = -5;
/// A plugin did not answer within its timeout (Lumen-specific).
pub const PLUGIN_TIMEOUT: i32 = 1900;

/// Wallet: the available funds cannot cover the amount plus fees
/// (Core Lightning's `FUND_CANNOT_AFFORD`).
pub const FUND_CANNOT_AFFORD: i32 = 301;
/// Wallet: an output would be dust (Core Lightning's `FUND_OUTPUT_IS_DUST`).
pub const FUND_OUTPUT_IS_DUST: i32 = 302;
/// Wallet: an input is unknown, spent, immature or already reserved, a PSBT
/// cannot be signed or finalized, or the chain refused the transaction
/// (Core Lightning's generic `LIGHTNINGD` code, which it uses for these).
pub const WALLET_ERROR: i32 = -1;

/// Core Lightning's catch-all `-1` (e.g. `waitinvoice` on an unknown or
/// deleted invoice).
pub const LIGHTNINGD: i32 = -1;
/// `invoice`: an invoice with this label exists.
pub const INVOICE_LABEL_ALREADY_EXISTS: i32 = 900;
/// `invoice`: an invoice with this preimage (payment hash) exists.
pub const INVOICE_PREIMAGE_ALREADY_EXISTS: i32 = 901;
/// `invoice`: none of the `exposeprivatechannels` channels were usable.
pub const INVOICE_HINTS_GAVE_NO_ROUTES: i32 = 902;
/// `waitinvoice`: the invoice expired (or had expired) before being paid.
pub const INVOICE_EXPIRED_DURING_WAIT: i32 = 903;
/// `waitanyinvoice`: the timeout passed without a payment.
pub const INVOICE_WAIT_TIMED_OUT: i32 = 904;
/// `delinvoice`: no invoice with this label.
pub const INVOICE_NOT_FOUND: i32 = 905;
/// `delinvoice`: the invoice's status is not the one given.
pub const INVOICE_STATUS_UNEXPECTED: i32 = 906;
/// `delinvoice desconly`: the invoice has no description left.
pub const INVOICE_NO_DESCRIPTION: i32 = 908;
