//! The host side: load a plugin `cdylib`, talk JSON-RPC to it.
//!
//! [`load`] opens the library with abi_stable (layout and version checked),
//! checks [`ABI_VERSION`], and starts the plugin. [`LoadedPlugin::request`]
//! sends a request with a fresh id (`"lumen:N"`) and waits for the matching
//! response with a timeout; responses are demultiplexed by id on the
//! plugin's thread (the host's sink only parses and forwards). Requests and
//! notifications the plugin sends are queued for [`LoadedPlugin::take_incoming`]
//! as [`Incoming`] (text that is not JSON too); the queue ends when the
//! plugin drops the host's sink (its runtime ended).
//!
//! Libraries are never unloaded (abi_stable); dropping a [`LoadedPlugin`]
//! drops its sink, which ends the plugin's worker thread.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use abi_stable::library::{LibraryError, lib_header_from_path};
use abi_stable::std_types::{RResult, RString};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::abi::{ABI_VERSION, MessageSink, MessageSinkBox, PluginModRef, sink_box};
use crate::pending::PendingCalls;
use crate::protocol::{InitConfiguration, InitParams, Manifest, RpcError};
use crate::spin::{Answer, SpinPolicy};

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// No file at the path.
    #[error("plugin {0}: no such file")]
    NotFound(PathBuf),
    /// The file is not a loadable shared library.
    #[error("plugin {path}: cannot be opened as a shared library: {message}")]
    Open {
        /// The path.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// A shared library, but it exports no Lumen plugin root module.
    #[error("plugin {path}: not a Lumen plugin (no abi_stable root module): {message}")]
    NotAPlugin {
        /// The path.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// Built against an incompatible SDK (abi_stable version or layout check).
    #[error("plugin {path}: incompatible plugin interface: {message}")]
    Incompatible {
        /// The path.
        path: PathBuf,
        /// abi_stable's explanation.
        message: String,
    },
    /// Layout matches but the message contract version differs.
    #[error("plugin {path}: ABI version {plugin}, this node speaks {host}")]
    AbiVersion {
        /// The path.
        path: PathBuf,
        /// The plugin's [`ABI_VERSION`].
        plugin: u32,
        /// Ours.
        host: u32,
    },
    /// The plugin's start function failed.
    #[error("plugin {path}: failed to start: {message}")]
    Start {
        /// The path.
        path: PathBuf,
        /// The plugin's message.
        message: String,
    },
}

fn map_library_error(path: &Path, err: LibraryError) -> LoadError {
    let path = path.to_path_buf();
    let message = err.to_string();
    match err {
        LibraryError::OpenError { .. } => LoadError::Open { path, message },
        LibraryError::GetSymbolError { .. } => LoadError::NotAPlugin { path, message },
        _ => LoadError::Incompatible { path, message },
    }
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The plugin answered with a JSON-RPC error.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// No answer within the timeout.
    #[error("plugin did not answer {method} within {timeout:?}")]
    Timeout {
        /// The method.
        method: String,
        /// The timeout.
        timeout: Duration,
    },
    /// The plugin's answer was not a valid JSON-RPC response.
    #[error("malformed response from plugin: {0}")]
    Malformed(String),
    /// The plugin's pipe is closed.
    #[error("plugin is gone")]
    Closed,
}

/// Why the start-up handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// `getmanifest` or `init` failed.
    #[error("{stage}: {source}")]
    Request {
        /// `getmanifest` or `init`.
        stage: &'static str,
        /// The failure.
        source: RequestError,
    },
    /// The manifest did not parse.
    #[error("bad manifest: {0}")]
    BadManifest(String),
    /// The plugin answered `init` with `{"disable": reason}`.
    #[error("plugin disabled itself: {0}")]
    Disabled(String),
}

/// What the plugin sent the host besides answers, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A request or notification.
    Message(Value),
    /// Text that is not JSON, as received.
    Unparseable(String),
}

/// The sink the plugin calls: parse, then hand the message to its waiter or
/// queue it. Never blocks for long, never panics across the boundary. It is
/// the only sender of the [`Inbox`], so when the plugin drops it the inbox
/// ends.
struct HostSink {
    pending: Arc<PendingCalls<Value>>,
    incoming: mpsc::UnboundedSender<Incoming>,
}

impl MessageSink for HostSink {
    fn send(&self, message: RString) {
        let _ = catch_unwind(AssertUnwindSafe(|| self.deliver(message.as_str())));
    }
}

/// The plugin dropped our sink: its runtime ended (the in-process
/// counterpart of a closed stdout). Waiting requests fail at once with
/// [`RequestError::Closed`], and the [`Inbox`] ends once drained.
impl Drop for HostSink {
    fn drop(&mut self) {
        self.pending.clear();
    }
}

impl HostSink {
    fn deliver(&self, text: &str) {
        let Ok(msg) = serde_json::from_str::<Value>(text) else {
            let _ = self.incoming.send(Incoming::Unparseable(text.to_string()));
            return;
        };
        let is_response = msg.get("method").is_none()
            && (msg.get("result").is_some() || msg.get("error").is_some());
        if is_response && let Some(id) = msg.get("id").and_then(Value::as_str) {
            if let Some(tx) = self.pending.take(id) {
                let _ = tx.send(msg);
            }
            // else: late answer to a timed-out request — dropped.
            return;
        }
        let _ = self.incoming.send(Incoming::Message(msg));
    }
}

/// A loaded, started plugin.
pub struct LoadedPlugin {
    path: PathBuf,
    to_plugin: MessageSinkBox,
    pending: Arc<PendingCalls<Value>>,
    next_id: AtomicU64,
    incoming: Mutex<Option<Inbox>>,
    /// Whether [`LoadedPlugin::request`] spins for its answer.
    spin: SpinPolicy,
}

/// What the plugin sends the host besides answers: its requests and
/// notifications, in order (see [`LoadedPlugin::take_incoming`]).
#[derive(Debug)]
pub struct Inbox {
    rx: mpsc::UnboundedReceiver<Incoming>,
    spin: SpinPolicy,
}

impl Inbox {
    /// The next message; `None` once the plugin is gone and everything it
    /// sent was read. Polls briefly before parking (see [`crate::spin`]).
    pub async fn recv(&mut self) -> Option<Incoming> {
        self.spin.recv(&mut self.rx).await
    }

    /// The next message if one is queued, without waiting.
    pub fn try_recv(&mut self) -> Result<Incoming, mpsc::error::TryRecvError> {
        self.rx.try_recv()
    }
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Load the plugin library at `path` and start it.
pub fn load(path: impl AsRef<Path>) -> Result<LoadedPlugin, LoadError> {
    let path = path.as_ref();
    if !path.exists() {
        return Err(LoadError::NotFound(path.to_path_buf()));
    }
    let module = lib_header_from_path(path)
        .and_then(|h| h.init_root_module::<PluginModRef>())
        .map_err(|e| map_library_error(path, e))?;
    let plugin_abi = module.abi_version();
    if plugin_abi != ABI_VERSION {
        return Err(LoadError::AbiVersion {
            path: path.to_path_buf(),
            plugin: plugin_abi,
            host: ABI_VERSION,
        });
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let pending = Arc::new(PendingCalls::default());
    let start = module.start();
    let sink = HostSink {
        pending: Arc::clone(&pending),
        incoming: tx,
    };
    let to_plugin = match start(sink_box(sink)) {
        RResult::ROk(sink) => sink,
        RResult::RErr(message) => {
            return Err(LoadError::Start {
                path: path.to_path_buf(),
                message: message.into_string(),
            });
        }
    };
    Ok(LoadedPlugin {
        path: path.to_path_buf(),
        to_plugin,
        pending,
        next_id: AtomicU64::new(1),
        incoming: Mutex::new(Some(Inbox {
            rx,
            spin: SpinPolicy::default(),
        })),
        spin: SpinPolicy::default(),
    })
}

impl LoadedPlugin {
    /// The library path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Send a request and wait for its response, at most `timeout`.
    pub async fn request(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, RequestError> {
        let id = format!("lumen:{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let send = || {
            self.send_raw(msg.to_string());
            true
        };
        let mut response = match self.pending.call(id, send, &self.spin, timeout).await {
            Answer::Got(r) => r,
            Answer::Closed => return Err(RequestError::Closed),
            Answer::TimedOut => {
                return Err(RequestError::Timeout {
                    method: method.to_string(),
                    timeout,
                });
            }
        };
        // Taken, not cloned: results can be large.
        if let Some(err) = response.get_mut("error").map(Value::take) {
            let err: RpcError = serde_json::from_value(err)
                .map_err(|e| RequestError::Malformed(format!("bad error object: {e}")))?;
            return Err(RequestError::Rpc(err));
        }
        response
            .get_mut("result")
            .map(Value::take)
            .ok_or_else(|| RequestError::Malformed("no result".into()))
    }

    /// Send one raw message to the plugin (enqueued on its side).
    pub fn send_raw(&self, message: String) {
        self.to_plugin.send(RString::from(message));
    }

    /// `getmanifest`.
    pub async fn getmanifest(&self, timeout: Duration) -> Result<Manifest, HandshakeError> {
        let v = self
            .request(
                "getmanifest",
                json!({"allow-deprecated-apis": false}),
                timeout,
            )
            .await
            .map_err(|source| HandshakeError::Request {
                stage: "getmanifest",
                source,
            })?;
        serde_json::from_value(v).map_err(|e| HandshakeError::BadManifest(e.to_string()))
    }

    /// `init` with resolved option values.
    pub async fn init(
        &self,
        options: Map<String, Value>,
        configuration: InitConfiguration,
        timeout: Duration,
    ) -> Result<(), HandshakeError> {
        let params = InitParams {
            options,
            configuration,
        };
        let params = serde_json::to_value(&params)
            .map_err(|e| HandshakeError::BadManifest(e.to_string()))?;
        let v = self
            .request("init", params, timeout)
            .await
            .map_err(|source| HandshakeError::Request {
                stage: "init",
                source,
            })?;
        match v.get("disable") {
            Some(reason) => Err(HandshakeError::Disabled(
                reason
                    .as_str()
                    .map_or_else(|| reason.to_string(), str::to_string),
            )),
            None => Ok(()),
        }
    }

    /// The start-up handshake: `getmanifest`, then `init` with `options`
    /// (the manifest's defaults fill in options not given; options the
    /// manifest does not declare are dropped). Returns the manifest.
    pub async fn handshake(
        &self,
        options: &Map<String, Value>,
        configuration: InitConfiguration,
        timeout: Duration,
    ) -> Result<Manifest, HandshakeError> {
        let manifest = self.getmanifest(timeout).await?;
        let mut resolved = Map::new();
        for opt in &manifest.options {
            if let Some(v) = options.get(&opt.name).or(opt.default.as_ref()) {
                resolved.insert(opt.name.clone(), v.clone());
            }
        }
        self.init(resolved, configuration, timeout).await?;
        Ok(manifest)
    }

    /// Take the queue of requests and notifications the plugin sent (once).
    pub fn take_incoming(&self) -> Option<Inbox> {
        self.incoming.lock().ok().and_then(|mut g| g.take())
    }
}
