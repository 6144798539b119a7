//! The plugin host: loads plugin libraries (config, `--plugin`,
//! `<datadir>/plugins/*.so`, `plugin start`), runs their handshake, serves
//! their methods on the [`Dispatcher`], answers their calls, runs hook chains
//! and forwards notifications. See `PLUGIN-PROTOCOL.md`.
//!
//! - [`features`]: feature bits startup plugins add to the node's;
//! - [`instance`]: one plugin and its health (failed plugins stay listed,
//!   their calls fail with the reason, their hooks fall through);
//! - [`options`]: option values typed per the manifest;
//! - [`passthrough`]: plugin methods on the dispatcher;
//! - [`incoming`]: the plugin's own calls, logs and notifications;
//! - [`hooks`]: chain order and calls;
//! - [`notify`]: notification payloads and the peer/chain forwarders;
//! - [`rpc`]: the `plugin` RPC and the `rpc_command` hook.

pub mod features;
pub mod hooks;
pub mod incoming;
pub mod instance;
pub mod notify;
pub mod options;
pub mod passthrough;
pub mod rpc;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lumen_sdk::host;
use lumen_sdk::protocol::InitConfiguration;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::config::PluginsConfig;
use crate::rpc::Dispatcher;

pub use instance::{Plugin, Status, name_from_path};

/// The plugin directory inside a data dir.
pub const PLUGIN_DIR: &str = "plugins";

/// All plugins of the node.
pub struct PluginManager {
    dispatcher: Arc<Dispatcher>,
    settings: PluginsConfig,
    dir: PathBuf,
    init: InitConfiguration,
    /// The node's feature bits with those of the plugins loaded so far.
    features: Mutex<features::FeatureSets>,
    /// Each hook's plugins in chain order, as of the last start or stop.
    hook_chains: Mutex<std::collections::HashMap<String, Vec<Arc<Plugin>>>>,
    /// Custom message types the active plugins declared.
    custom_types: tokio::sync::watch::Sender<std::collections::BTreeSet<u16>>,
    plugins: Mutex<Vec<Arc<Plugin>>>,
    /// One load at a time: clash checks and registration stay consistent.
    load_lock: tokio::sync::Mutex<()>,
    fatal: mpsc::UnboundedSender<String>,
}

impl std::fmt::Debug for PluginManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginManager")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl PluginManager {
    /// A manager for `datadir`. The receiver hears when an important plugin
    /// fails (the node then stops).
    pub fn new(
        dispatcher: Arc<Dispatcher>,
        settings: PluginsConfig,
        datadir: &Path,
        init: InitConfiguration,
    ) -> (Arc<PluginManager>, mpsc::UnboundedReceiver<String>) {
        let (fatal, fatal_rx) = mpsc::unbounded_channel();
        let m = Arc::new(PluginManager {
            dispatcher,
            settings,
            dir: datadir.join(PLUGIN_DIR),
            features: Mutex::new(features::FeatureSets::from_feature_set(&init.feature_set)),
            hook_chains: Mutex::new(std::collections::HashMap::new()),
            custom_types: tokio::sync::watch::channel(std::collections::BTreeSet::new()).0,
            init,
            plugins: Mutex::new(Vec::new()),
            load_lock: tokio::sync::Mutex::new(()),
            fatal,
        });
        (m, fatal_rx)
    }

    /// The plugin directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every plugin, in load order (failed ones included, stopped ones not).
    pub fn list(&self) -> Vec<Arc<Plugin>> {
        self.plugins.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// The dispatcher.
    pub fn dispatcher(&self) -> &Arc<Dispatcher> {
        &self.dispatcher
    }

    fn is_important(&self, path: &Path) -> bool {
        let name = name_from_path(path);
        self.settings
            .important
            .iter()
            .any(|i| *i == name || Path::new(i) == path || same_file(Path::new(i), path))
    }

    /// `*.so` files in the plugin directory, sorted.
    pub fn dir_libraries(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.is_file()
                            && p.extension().and_then(|e| e.to_str())
                                == Some(std::env::consts::DLL_EXTENSION)
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// Whether a plugin from `path` is loaded and not failed.
    pub fn running(&self, path: &Path) -> bool {
        self.list().iter().any(|p| {
            !matches!(p.status(), Status::Failed(_)) && (p.path == path || same_file(&p.path, path))
        })
    }

    /// Start-up: load the configured plugins and those in the plugin
    /// directory, install the `plugin` RPC and the `rpc_command` hook. An
    /// important plugin's failure is an error; others are marked failed.
    pub async fn start_all(self: &Arc<Self>) -> anyhow::Result<()> {
        rpc::register(self).map_err(anyhow::Error::msg)?;
        let mut paths = self.settings.load.clone();
        paths.extend(self.dir_libraries());
        let mut seen: Vec<PathBuf> = Vec::new();
        for path in paths {
            if seen.iter().any(|s| *s == path || same_file(s, &path)) {
                continue;
            }
            seen.push(path.clone());
            if let Err(reason) = self.load(&path, Map::new(), true).await {
                if self.is_important(&path) {
                    anyhow::bail!(
                        "important plugin {} failed to start: {reason}",
                        path.display()
                    );
                }
                tracing::error!(plugin = %path.display(), %reason, "plugin failed to start");
                self.record_failed(&path, reason);
            }
        }
        for (name, _) in &self.settings.flag_options {
            let declared = self
                .list()
                .iter()
                .any(|p| p.is_active() && p.manifest().is_some_and(|m| options::declares(m, name)));
            if !declared {
                anyhow::bail!("--plugin-opt {name}: no loaded plugin declares option '{name}'");
            }
        }
        Ok(())
    }

    /// Keep a plugin that could not start in the list, failed, so that
    /// `plugin list` says why.
    fn record_failed(&self, path: &Path, reason: String) {
        let p = Plugin::failed(path, reason);
        if let Ok(mut list) = self.plugins.lock() {
            list.retain(|q| q.name != p.name);
            list.push(p);
        }
    }

    /// Load, handshake and register one plugin. `given` are option values
    /// from `plugin start`; the config's are added. On error nothing stays
    /// registered and the plugin is not listed.
    pub async fn load(
        self: &Arc<Self>,
        path: &Path,
        given: Map<String, Value>,
        startup: bool,
    ) -> Result<Arc<Plugin>, String> {
        let _guard = self.load_lock.lock().await;
        let name = name_from_path(path);
        if let Some(old) = self.list().into_iter().find(|p| p.name == name) {
            match old.status() {
                Status::Failed(_) => self.remove(&old),
                _ => return Err(format!("plugin {name} is already running")),
            }
        }
        let handle = host::load(path).map_err(|e| e.to_string())?;
        let plugin = Plugin::new(handle, self.is_important(path), self.fatal.clone());
        let Some(handle) = plugin.handle() else {
            return Err(format!("plugin {name} vanished while starting"));
        };
        if let Ok(mut list) = self.plugins.lock() {
            list.push(Arc::clone(&plugin));
        }
        incoming::spawn(Arc::downgrade(self), Arc::clone(&plugin), &handle);
        let outcome = self.handshake(&plugin, given, startup).await;
        if let Err(reason) = &outcome {
            plugin.stop();
            self.remove(&plugin);
            return Err(format!("plugin {name}: {reason}"));
        }
        plugin.set_active();
        self.refresh_views();
        let methods: Vec<String> = plugin
            .manifest()
            .map(|m| m.rpcmethods.iter().map(|r| r.name.clone()).collect())
            .unwrap_or_default();
        tracing::info!(plugin = %name, path = %path.display(), ?methods, "plugin started");
        self.notify(
            "plugin_started",
            json!({
                "plugin_name": name,
                "plugin_path": path.display().to_string(),
                "methods": methods,
            }),
        );
        Ok(plugin)
    }

    async fn handshake(
        self: &Arc<Self>,
        plugin: &Arc<Plugin>,
        mut given: Map<String, Value>,
        startup: bool,
    ) -> Result<(), String> {
        let handle = plugin.handle().ok_or("stopped while starting")?;
        let t = self.settings.handshake_timeout;
        let manifest = handle.getmanifest(t).await.map_err(|e| e.to_string())?;
        for key in manifest.unknown.keys() {
            tracing::info!(plugin = %plugin.name, key, "ignoring unknown manifest member");
        }
        let mut sets = self.feature_sets();
        let added = sets.check(&manifest.featurebits, startup)?;
        sets.add(&added);
        let unapplied = added.unapplied();
        if !unapplied.is_empty() {
            tracing::warn!(plugin = %plugin.name, kinds = ?unapplied,
                "plugin feature bits recorded but not sent yet (only init bits are)");
        }
        if let Some(t) = manifest.custommessages.iter().find(|t| **t < 32768) {
            return Err(format!(
                "custommessages: type {t} is not a custom message type (at least 32768)"
            ));
        }
        for m in &manifest.rpcmethods {
            if self.dispatcher.has(&m.name) {
                let owner = self
                    .list()
                    .into_iter()
                    .find(|p| {
                        !Arc::ptr_eq(p, plugin)
                            && p.manifest()
                                .is_some_and(|pm| pm.rpcmethods.iter().any(|r| r.name == m.name))
                    })
                    .map(|p| format!("plugin {}", p.name))
                    .unwrap_or_else(|| "a built-in method".to_string());
                return Err(format!(
                    "method '{}' clashes with {owner}; refusing to load",
                    m.name
                ));
            }
        }
        // Config file values first, then flags, then `plugin start` ones.
        let mut all = self
            .settings
            .options
            .get(&plugin.name)
            .cloned()
            .unwrap_or_default();
        for (k, v) in &self.settings.flag_options {
            if options::declares(&manifest, k) {
                all.insert(k.clone(), Value::String(v.clone()));
            }
        }
        all.append(&mut given);
        let resolved = options::resolve(&plugin.name, &manifest, &all)?;
        plugin.set_manifest(manifest);
        let mut init = self.init.clone();
        init.startup = startup;
        init.feature_set = sets.to_feature_set();
        handle
            .init(resolved, init, t)
            .await
            .map_err(|e| e.to_string())?;
        passthrough::register(&self.dispatcher, plugin, self.settings.call_timeout)?;
        // Loads are serialised (`load_lock`), so nothing changed the sets
        // since they were checked.
        if let Ok(mut f) = self.features.lock() {
            f.add(&added);
        }
        Ok(())
    }

    /// The custom message types active plugins declared, now and as they
    /// change (the peer manager follows this).
    pub fn custom_types(&self) -> tokio::sync::watch::Receiver<std::collections::BTreeSet<u16>> {
        self.custom_types.subscribe()
    }

    /// After a plugin started or stopped: the ordered hook chains and the
    /// declared custom message types, so calls do not recompute them.
    fn refresh_views(&self) {
        let active: Vec<Arc<Plugin>> = self.list().into_iter().filter(|p| p.is_active()).collect();
        let names: std::collections::BTreeSet<String> = active
            .iter()
            .filter_map(|p| p.manifest())
            .flat_map(|m| m.hooks.iter().map(|h| h.name.clone()))
            .collect();
        let chains = names
            .into_iter()
            .map(|hook| {
                let chain = hooks::order(&hook, &active);
                (hook, chain)
            })
            .collect();
        if let Ok(mut c) = self.hook_chains.lock() {
            *c = chains;
        }
        let types: std::collections::BTreeSet<u16> = active
            .iter()
            .filter_map(|p| p.manifest())
            .flat_map(|m| m.custommessages.clone())
            .collect();
        self.custom_types.send_if_modified(|old| {
            let changed = *old != types;
            *old = types;
            changed
        });
    }

    /// The node's feature bits, with those the plugins loaded so far added.
    pub fn feature_sets(&self) -> features::FeatureSets {
        self.features
            .lock()
            .map(|f| f.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    fn remove(&self, plugin: &Arc<Plugin>) {
        for m in plugin.take_registered() {
            self.dispatcher.unregister(&m);
        }
        if let Ok(mut list) = self.plugins.lock() {
            list.retain(|p| !Arc::ptr_eq(p, plugin));
        }
    }

    /// Stop a plugin: `shutdown`, unregister its methods, hooks and
    /// subscriptions (it leaves the list), tell the others.
    pub fn stop(&self, plugin: &Arc<Plugin>) {
        let methods: Vec<String> = plugin
            .manifest()
            .map(|m| m.rpcmethods.iter().map(|r| r.name.clone()).collect())
            .unwrap_or_default();
        plugin.stop();
        self.remove(plugin);
        self.refresh_views();
        tracing::info!(plugin = %plugin.name, "plugin stopped");
        self.notify(
            "plugin_stopped",
            json!({
                "plugin_name": plugin.name,
                "plugin_path": plugin.path.display().to_string(),
                "methods": methods,
            }),
        );
    }

    /// Tell every plugin `shutdown` (node shutdown).
    pub fn shutdown_all(&self) {
        for p in self.list() {
            p.stop();
        }
    }

    /// Send `topic` to every active subscriber, as Core Lightning does:
    /// params `{topic: payload}`.
    pub fn notify(&self, topic: &str, payload: Value) {
        let mut params = Map::new();
        params.insert(topic.to_string(), payload);
        self.notify_raw(topic, Value::Object(params));
    }

    /// Send `topic` with these exact params to every active subscriber.
    pub fn notify_raw(&self, topic: &str, params: Value) {
        // Serialised once, however many subscribe.
        let mut text = None;
        for p in self.list() {
            if p.is_active() && p.subscribed(topic) {
                let text = text.get_or_insert_with(|| {
                    json!({"jsonrpc": "2.0", "method": topic, "params": params}).to_string()
                });
                p.notify_text(text);
            }
        }
    }

    /// Whether an active plugin is registered for `hook`. Asked on every
    /// outside RPC call (the `rpc_command` hook), so it builds no chain.
    pub fn has_hook(&self, hook: &str) -> bool {
        self.hook_chains
            .lock()
            .ok()
            .is_some_and(|c| c.get(hook).is_some_and(|v| v.iter().any(|p| p.is_active())))
    }

    /// The ordered chain for `hook` (active plugins only).
    pub fn hook_chain(&self, hook: &str) -> Vec<Arc<Plugin>> {
        // Ordered when plugins start or stop; a plugin that failed since
        // falls out here, so its hook falls through.
        self.hook_chains
            .lock()
            .ok()
            .and_then(|c| c.get(hook).cloned())
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.is_active())
            .collect()
    }

    /// Run `hook` with `payload`; the first non-`continue` result.
    pub async fn call_hook(&self, hook: &str, payload: &Value) -> Option<(String, Value)> {
        let chain = self.hook_chain(hook);
        if chain.is_empty() {
            return None;
        }
        hooks::call_chain(hook, &chain, payload, self.settings.hook_timeout).await
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
