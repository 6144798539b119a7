//! One loaded plugin: its library handle, manifest and health.
//!
//! Every request to a plugin goes through [`Plugin::request`], which races
//! the answer against the plugin being marked failed or stopped, and marks
//! it failed when it panics, times out, answers malformed JSON or is gone.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use lumen_sdk::error_codes as codes;
use lumen_sdk::host::{LoadedPlugin, RequestError};
use lumen_sdk::protocol::Manifest;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::rpc::RpcError;

/// Where a plugin is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Loaded, handshake under way.
    Starting,
    /// Serving.
    Active,
    /// Failed; the reason. Its calls fail, its hooks fall through.
    Failed(String),
    /// Stopped by `plugin stop` (or a failed start).
    Stopped,
}

/// A loaded plugin.
pub struct Plugin {
    /// Name: the library's file name without `lib` and the extension.
    pub name: String,
    /// The library path.
    pub path: PathBuf,
    /// Whether its failure stops the node.
    pub important: bool,
    handle: Mutex<Option<Arc<LoadedPlugin>>>,
    manifest: OnceLock<Manifest>,
    status: watch::Sender<Status>,
    fatal: mpsc::UnboundedSender<String>,
    registered: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

/// The plugin name for a library path: `libfoo_bar.so` → `foo_bar`.
pub fn name_from_path(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.strip_prefix(std::env::consts::DLL_PREFIX) {
        Some(rest) if !rest.is_empty() && !std::env::consts::DLL_PREFIX.is_empty() => {
            rest.to_string()
        }
        _ => stem,
    }
}

impl Plugin {
    /// Wrap a freshly loaded library. `fatal` hears about the failure of an
    /// important plugin.
    pub fn new(
        handle: LoadedPlugin,
        important: bool,
        fatal: mpsc::UnboundedSender<String>,
    ) -> Arc<Plugin> {
        let path = handle.path().to_path_buf();
        Arc::new(Plugin {
            name: name_from_path(&path),
            path,
            important,
            handle: Mutex::new(Some(Arc::new(handle))),
            manifest: OnceLock::new(),
            status: watch::channel(Status::Starting).0,
            fatal,
            registered: Mutex::new(Vec::new()),
        })
    }

    /// A plugin that could not be loaded or started at node start: listed,
    /// failed, with the reason.
    pub fn failed(path: &Path, reason: String) -> Arc<Plugin> {
        Arc::new(Plugin {
            name: name_from_path(path),
            path: path.to_path_buf(),
            important: false,
            handle: Mutex::new(None),
            manifest: OnceLock::new(),
            status: watch::channel(Status::Failed(reason)).0,
            fatal: mpsc::unbounded_channel().0,
            registered: Mutex::new(Vec::new()),
        })
    }

    /// Record a method registered on the dispatcher for this plugin.
    pub fn add_registered(&self, method: &str) {
        if let Ok(mut r) = self.registered.lock() {
            r.push(method.to_string());
        }
    }

    /// The methods registered for this plugin, forgetting them.
    pub fn take_registered(&self) -> Vec<String> {
        self.registered
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }

    /// The library handle, unless stopped.
    pub fn handle(&self) -> Option<Arc<LoadedPlugin>> {
        self.handle.lock().ok().and_then(|h| h.clone())
    }

    /// The manifest (after `getmanifest`).
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.get()
    }

    /// Record the manifest (once).
    pub fn set_manifest(&self, manifest: Manifest) {
        let _ = self.manifest.set(manifest);
    }

    /// Current status.
    pub fn status(&self) -> Status {
        self.status.borrow().clone()
    }

    /// Whether it serves (calls, hooks, notifications).
    pub fn is_active(&self) -> bool {
        matches!(*self.status.borrow(), Status::Active)
    }

    /// Whether it declared itself dynamic.
    pub fn dynamic(&self) -> bool {
        self.manifest().is_some_and(|m| m.dynamic)
    }

    /// Whether it registered for `hook`.
    pub fn has_hook(&self, hook: &str) -> bool {
        self.manifest()
            .is_some_and(|m| m.hooks.iter().any(|h| h.name == hook))
    }

    /// Whether it subscribed to `topic` (or to `*`).
    pub fn subscribed(&self, topic: &str) -> bool {
        self.manifest()
            .is_some_and(|m| m.subscriptions.iter().any(|s| s == topic || s == "*"))
    }

    /// Mark it serving.
    pub fn set_active(&self) {
        self.status.send_replace(Status::Active);
    }

    /// Mark it failed (once; a stopped plugin stays stopped). An important
    /// plugin's failure is reported to the node, which stops.
    pub fn fail(&self, reason: impl Into<String>) {
        let reason = reason.into();
        let changed = self.status.send_if_modified(|s| match s {
            Status::Starting | Status::Active => {
                *s = Status::Failed(reason.clone());
                true
            }
            _ => false,
        });
        if changed {
            tracing::error!(plugin = %self.name, %reason, "plugin failed");
            if self.important {
                let _ = self
                    .fatal
                    .send(format!("important plugin {} failed: {reason}", self.name));
            }
        }
    }

    /// Stop it: mark it stopped, tell it `shutdown`, drop our handle (its
    /// worker ends when the last in-flight call lets go; the library stays
    /// mapped).
    pub fn stop(&self) {
        self.status.send_replace(Status::Stopped);
        let handle = self.handle.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            h.send_raw(
                json!({"jsonrpc": "2.0", "method": "shutdown", "params": {"shutdown": {}}})
                    .to_string(),
            );
        }
    }

    /// Why calls fail now, if they do.
    pub fn unavailable(&self) -> Option<RpcError> {
        match self.status() {
            Status::Active | Status::Starting => None,
            Status::Failed(reason) => Some(RpcError::new(
                codes::PLUGIN_TERMINATED,
                format!("plugin {} has failed: {reason}", self.name),
            )),
            Status::Stopped => Some(RpcError::new(
                codes::PLUGIN_TERMINATED,
                format!("plugin {} is stopped", self.name),
            )),
        }
    }

    /// Send an already-serialised notification (fire and forget) if it
    /// serves.
    pub fn notify_text(&self, text: &str) {
        if !self.is_active() {
            return;
        }
        if let Some(h) = self.handle() {
            h.send_raw(text.to_string());
        }
    }

    /// One request with a timeout. The plugin's own JSON-RPC errors come back
    /// as they are; a panic, timeout, malformed answer or closed pipe marks
    /// it failed; a failure meanwhile (e.g. garbage on another call) ends the
    /// wait at once.
    pub async fn request(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, RpcError> {
        if let Some(e) = self.unavailable() {
            return Err(e);
        }
        let handle = self.handle().ok_or_else(|| {
            RpcError::new(
                codes::PLUGIN_TERMINATED,
                format!("plugin {} is stopped", self.name),
            )
        })?;
        let mut status = self.status.subscribe();
        let outcome = tokio::select! {
            r = handle.request(method, params, timeout) => r,
            _ = status.wait_for(|s| matches!(s, Status::Failed(_) | Status::Stopped)) => {
                return Err(self.unavailable().unwrap_or_else(|| RpcError::new(
                    codes::PLUGIN_TERMINATED,
                    format!("plugin {} is gone", self.name),
                )));
            }
        };
        match outcome {
            Ok(v) => Ok(v),
            Err(RequestError::Rpc(e)) => {
                let panicked = e
                    .data
                    .as_ref()
                    .and_then(|d| d.get("panic"))
                    .and_then(Value::as_bool)
                    == Some(true);
                if panicked {
                    self.fail(format!("panicked in {method}: {}", e.message));
                    return Err(RpcError::new(
                        codes::PLUGIN_ERROR,
                        format!("plugin {} panicked in {method}: {}", self.name, e.message),
                    ));
                }
                Err(e.into())
            }
            Err(RequestError::Timeout { .. }) => {
                let what = format!("did not answer {method} within {timeout:?}");
                self.fail(what.clone());
                Err(RpcError::new(
                    codes::PLUGIN_TIMEOUT,
                    format!("plugin {} {what}", self.name),
                ))
            }
            Err(RequestError::Malformed(m)) => {
                let what = format!("malformed answer to {method}: {m}");
                self.fail(what.clone());
                Err(RpcError::new(
                    codes::PLUGIN_ERROR,
                    format!("plugin {}: {what}", self.name),
                ))
            }
            Err(RequestError::Closed) => {
                self.fail("its message pipe closed (runtime gone)");
                Err(RpcError::new(
                    codes::PLUGIN_TERMINATED,
                    format!("plugin {} is gone (its runtime ended)", self.name),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_paths() {
        assert_eq!(name_from_path(Path::new("/x/libhello.so")), "hello");
        assert_eq!(name_from_path(Path::new("/x/hello.so")), "hello");
        assert_eq!(name_from_path(Path::new("lib.so")), "lib");
        assert_eq!(
            name_from_path(Path::new("/x/liblumen_example_hello.so")),
            "lumen_example_hello"
        );
    }
}
