//! The plugin side of the SDK: declare a plugin with [`PluginBuilder`],
//! export it with [`crate::export_plugin!`].
//!
//! The plugin handles every message on its own dedicated thread: the sink
//! the host calls only enqueues. Every handler runs under `catch_unwind`; a
//! panic becomes a JSON-RPC error response (code `-32603`) plus a `log`
//! notification, and the plugin keeps serving.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};

use abi_stable::std_types::{RResult, RString};
use serde_json::{Map, Value, json};

use crate::abi::{MessageSink, MessageSinkBox, sink_box};
use crate::protocol::{
    FeatureBits, HookDecl, InitConfiguration, InitParams, Manifest, ManifestOption,
    NotificationDecl, OptionType, RpcError, RpcMethodDecl, response_err, response_ok,
};

type Handler = Arc<dyn Fn(&PluginContext, Value) -> Result<Value, RpcError> + Send + Sync>;
type InitHandler = Arc<dyn Fn(&PluginContext) -> Result<(), String> + Send + Sync>;

/// What a handler sees: the plugin's resolved options and the node's
/// configuration from `init`, and a way to send notifications.
pub struct PluginContext {
    options: Map<String, Value>,
    configuration: InitConfiguration,
    host: Arc<MessageSinkBox>,
}

impl PluginContext {
    /// The resolved value of an option (default filled in by the host).
    pub fn option(&self, name: &str) -> Option<&Value> {
        self.options.get(name)
    }

    /// The resolved value of a string option.
    pub fn option_str(&self, name: &str) -> Option<&str> {
        self.options.get(name).and_then(Value::as_str)
    }

    /// The node configuration given at `init`.
    pub fn configuration(&self) -> &InitConfiguration {
        &self.configuration
    }

    /// Send a notification to the host.
    pub fn notify(&self, method: &str, params: Value) {
        send(
            &self.host,
            &json!({"jsonrpc": "2.0", "method": method, "params": params}),
        );
    }
}

/// Declares a plugin: manifest data and method handlers.
pub struct PluginBuilder {
    name: String,
    manifest: Manifest,
    handlers: HashMap<String, Handler>,
    on_init: Option<InitHandler>,
}

impl PluginBuilder {
    /// A new plugin called `name` (used in its request ids, `"name:N"`).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            manifest: Manifest {
                nonnumericids: true,
                ..Manifest::default()
            },
            handlers: HashMap::new(),
            on_init: None,
        }
    }

    /// Declare an option.
    pub fn option(
        mut self,
        name: &str,
        kind: OptionType,
        default: Option<Value>,
        description: &str,
    ) -> Self {
        self.manifest.options.push(ManifestOption {
            name: name.into(),
            kind,
            default,
            description: description.into(),
            dynamic: false,
            multi: false,
        });
        self
    }

    /// Serve an RPC method.
    pub fn method<F>(mut self, name: &str, usage: &str, description: &str, handler: F) -> Self
    where
        F: Fn(&PluginContext, Value) -> Result<Value, RpcError> + Send + Sync + 'static,
    {
        self.manifest.rpcmethods.push(RpcMethodDecl {
            name: name.into(),
            usage: usage.into(),
            description: description.into(),
        });
        self.handlers.insert(name.into(), Arc::new(handler));
        self
    }

    /// Subscribe to a notification topic (declared only, in this increment).
    pub fn subscribe(mut self, topic: &str) -> Self {
        self.manifest.subscriptions.push(topic.into());
        self
    }

    /// Register for a hook (declared only, in this increment).
    pub fn hook(mut self, name: &str, before: &[&str], after: &[&str]) -> Self {
        self.manifest.hooks.push(HookDecl {
            name: name.into(),
            before: before.iter().map(|s| s.to_string()).collect(),
            after: after.iter().map(|s| s.to_string()).collect(),
        });
        self
    }

    /// Declare a notification topic this plugin may emit.
    pub fn notification(mut self, method: &str) -> Self {
        self.manifest.notifications.push(NotificationDecl {
            method: method.into(),
        });
        self
    }

    /// Declare an odd custom message type handled.
    pub fn custom_message(mut self, msg_type: u16) -> Self {
        self.manifest.custommessages.push(msg_type);
        self
    }

    /// Set feature bits.
    pub fn featurebits(mut self, bits: FeatureBits) -> Self {
        self.manifest.featurebits = bits;
        self
    }

    /// Whether the plugin may be started/stopped at runtime.
    pub fn dynamic(mut self, dynamic: bool) -> Self {
        self.manifest.dynamic = dynamic;
        self
    }

    /// Run at `init`; an `Err(reason)` answers `{"disable": reason}`.
    pub fn on_init<F>(mut self, f: F) -> Self
    where
        F: Fn(&PluginContext) -> Result<(), String> + Send + Sync + 'static,
    {
        self.on_init = Some(Arc::new(f));
        self
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The manifest this plugin answers `getmanifest` with.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
}

/// The sink the host calls: enqueue only.
struct PluginSink(Mutex<mpsc::Sender<RString>>);

impl MessageSink for PluginSink {
    fn send(&self, message: RString) {
        // Never panic across the boundary; a poisoned lock or a dead worker
        // just drops the message (the host's request then times out).
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if let Ok(tx) = self.0.lock() {
                let _ = tx.send(message);
            }
        }));
    }
}

fn send(host: &MessageSinkBox, msg: &Value) {
    host.send(RString::from(msg.to_string()));
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// Start a plugin: build it (under `catch_unwind`), spawn its worker thread,
/// return the sink the host sends to. Called by the code
/// [`crate::export_plugin!`] generates.
pub fn start_exported<B>(host: MessageSinkBox, build: B) -> RResult<MessageSinkBox, RString>
where
    B: FnOnce() -> PluginBuilder,
{
    let started = catch_unwind(AssertUnwindSafe(
        move || -> Result<MessageSinkBox, String> {
            let plugin = build();
            let (tx, rx) = mpsc::channel::<RString>();
            let host = Arc::new(host);
            std::thread::Builder::new()
                .name(format!("plugin-{}", plugin.name))
                .spawn(move || run(plugin, rx, host))
                .map_err(|e| format!("cannot spawn the plugin thread: {e}"))?;
            Ok(sink_box(PluginSink(Mutex::new(tx))))
        },
    ));
    match started {
        Ok(Ok(sink)) => RResult::ROk(sink),
        Ok(Err(e)) => RResult::RErr(e.into()),
        Err(p) => {
            RResult::RErr(format!("plugin panicked while starting: {}", panic_message(&*p)).into())
        }
    }
}

fn run(plugin: PluginBuilder, rx: mpsc::Receiver<RString>, host: Arc<MessageSinkBox>) {
    let mut ctx: Option<PluginContext> = None;
    for raw in rx {
        let msg: Value = match serde_json::from_str(raw.as_str()) {
            Ok(v) => v,
            Err(e) => {
                let err = RpcError::new(crate::error_codes::PARSE_ERROR, e.to_string());
                send(&host, &response_err(&Value::Null, &err));
                continue;
            }
        };
        let Some(method) = msg.get("method").and_then(Value::as_str) else {
            // A response to a request of ours: none are sent in this increment.
            continue;
        };
        let Some(id) = msg.get("id").cloned() else {
            // A notification: subscriptions are dispatched in a later increment.
            continue;
        };
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            handle(&plugin, &mut ctx, &host, method, params)
        }));
        let reply = match outcome {
            Ok(Ok(result)) => response_ok(&id, result),
            Ok(Err(err)) => response_err(&id, &err),
            Err(p) => {
                let what = format!(
                    "plugin {} panicked in {method}: {}",
                    plugin.name,
                    panic_message(&*p)
                );
                send(
                    &host,
                    &json!({"jsonrpc": "2.0", "method": "log",
                            "params": {"level": "broken", "message": what}}),
                );
                response_err(&id, &RpcError::internal(what))
            }
        };
        send(&host, &reply);
    }
}

fn handle(
    plugin: &PluginBuilder,
    ctx: &mut Option<PluginContext>,
    host: &Arc<MessageSinkBox>,
    method: &str,
    params: Value,
) -> Result<Value, RpcError> {
    match method {
        "getmanifest" => {
            serde_json::to_value(&plugin.manifest).map_err(|e| RpcError::internal(e.to_string()))
        }
        "init" => {
            let init: InitParams = serde_json::from_value(params)
                .map_err(|e| RpcError::invalid_params(format!("bad init params: {e}")))?;
            let new_ctx = PluginContext {
                options: init.options,
                configuration: init.configuration,
                host: Arc::clone(host),
            };
            let verdict = match &plugin.on_init {
                Some(f) => f(&new_ctx),
                None => Ok(()),
            };
            *ctx = Some(new_ctx);
            match verdict {
                Ok(()) => Ok(json!({})),
                Err(reason) => Ok(json!({ "disable": reason })),
            }
        }
        _ => {
            let handler = plugin
                .handlers
                .get(method)
                .ok_or_else(|| RpcError::method_not_found(method))?;
            let ctx = ctx
                .as_ref()
                .ok_or_else(|| RpcError::internal("plugin not initialised (no init yet)"))?;
            handler(ctx, params)
        }
    }
}

/// Export a plugin from a `cdylib`: `export_plugin!(build)` where `build` is
/// a `fn() -> PluginBuilder`. The crate must also depend on `abi_stable`
/// (its export attribute names `::abi_stable` paths).
#[macro_export]
macro_rules! export_plugin {
    ($build:path) => {
        extern "C" fn __lumen_plugin_start(
            host: $crate::abi::MessageSinkBox,
        ) -> $crate::abi::reexports::RResult<
            $crate::abi::MessageSinkBox,
            $crate::abi::reexports::RString,
        > {
            $crate::plugin::start_exported(host, $build)
        }

        /// The abi_stable root module of this plugin.
        #[allow(unsafe_code)]
        #[$crate::abi::reexports::export_root_module]
        fn lumen_plugin_root_module() -> $crate::abi::PluginModRef {
            $crate::abi::plugin_module(__lumen_plugin_start)
        }
    };
}
