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

/// A plugin failed: it answered malformed JSON, panicked, could not be
/// loaded or refused `init` (Core Lightning's `PLUGIN_ERROR`).
pub const PLUGIN_ERROR: i32 = -3;
/// The plugin serving this method has failed or was stopped; the message
/// says why (Core Lightning's `PLUGIN_TERMINATED`).
pub const PLUGIN_TERMINATED: i32 = -4;
/// A plugin did not answer within its timeout (Lumen-specific).
pub const PLUGIN_TIMEOUT: i32 = 1900;
