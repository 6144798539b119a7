//! The plugin side of the SDK: declare a plugin with [`PluginBuilder`],
//! export it with [`crate::export_plugin!`].
//!
//! The plugin handles every message on its own dedicated thread: the sink
//! the host calls only enqueues. Every handler runs under `catch_unwind`; a
//! panic becomes a JSON-RPC error response (code `-32603`, `data.panic`
//! true) plus a `log` notification, and the plugin keeps serving.
//!
//! A handler may call the node ([`PluginContext::call`]): the answer is
//! routed to it by the sink (not the worker thread), so a blocked handler
//! does not deadlock its own plugin.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use abi_stable::std_types::{RResult, RString};
use serde_json::{Map, Value, json};

use crate::abi::{MessageSink, MessageSinkBox, sink_box};
use crate::protocol::{
    FeatureBits, HookDecl, InitConfiguration, InitParams, Manifest, ManifestOption,
    NotificationDecl, OptionType, RpcError, RpcMethodDecl, response_err, response_ok,
};

type Handler = Arc<dyn Fn(&PluginContext, Value) -> Result<Value, RpcError> + Send + Sync>;
type InitHandler = Arc<dyn Fn(&PluginContext) -> Result<(), String> + Send + Sync>;
type NotificationHandler = Arc<dyn Fn(&PluginContext, &str, Value) + Send + Sync>;
type Waiters = Mutex<HashMap<String, mpsc::Sender<Value>>>;

/// How long [`PluginContext::call`] waits for the node by default.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// What a handler sees: the plugin's resolved options and the node's
/// configuration from `init`, and a way to send notifications.
pub struct PluginContext {
    options: Map<String, Value>,
    configuration: InitConfiguration,
    host: Arc<MessageSinkBox>,
    calls: Arc<Calls>,
}

/// The plugin's own requests to the node: id counter and waiters.
struct Calls {
    name: String,
    next_id: AtomicU64,
    waiters: Waiters,
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

    /// Call a node RPC method and wait for its answer (at most
    /// [`DEFAULT_CALL_TIMEOUT`]). Blocks this plugin's worker thread.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        self.call_timeout(method, params, DEFAULT_CALL_TIMEOUT)
    }

    /// [`PluginContext::call`] with an explicit timeout.
    pub fn call_timeout(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, RpcError> {
        let id = format!(
            "{}:{}",
            self.calls.name,
            self.calls.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let (tx, rx) = mpsc::channel();
        if let Ok(mut w) = self.calls.waiters.lock() {
            w.insert(id.clone(), tx);
        }
        send(
            &self.host,
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        );
        let answer = rx.recv_timeout(timeout);
        if let Ok(mut w) = self.calls.waiters.lock() {
            w.remove(&id);
        }
        let answer = answer.map_err(|_| {
            RpcError::internal(format!(
                "the node did not answer {method} within {timeout:?}"
            ))
        })?;
        if let Some(err) = answer.get("error") {
            return Err(serde_json::from_value(err.clone()).unwrap_or_else(|_| {
                RpcError::internal(format!("malformed error from the node: {err}"))
            }));
        }
        answer
            .get("result")
            .cloned()
            .ok_or_else(|| RpcError::internal("the node's answer has no result"))
    }
}

/// Declares a plugin: manifest data and method handlers.
pub struct PluginBuilder {
    name: String,
    manifest: Manifest,
    handlers: HashMap<String, Handler>,
    on_init: Option<InitHandler>,
    notification_handlers: HashMap<String, NotificationHandler>,
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
            notification_handlers: HashMap::new(),
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

    /// Subscribe to a notification topic without a handler (see
    /// [`PluginBuilder::on_notification`]).
    pub fn subscribe(mut self, topic: &str) -> Self {
        self.manifest.subscriptions.push(topic.into());
        self
    }

    /// Declare a hook without a handler (see [`PluginBuilder::on_hook`]).
    pub fn hook(mut self, name: &str, before: &[&str], after: &[&str]) -> Self {
        self.manifest.hooks.push(HookDecl {
            name: name.into(),
            before: before.iter().map(|s| s.to_string()).collect(),
            after: after.iter().map(|s| s.to_string()).collect(),
        });
        self
    }

    /// Register for a hook with a handler (called like a method with the hook
    /// payload; it returns the hook result, e.g. [`crate::hooks::continue_result`]).
    pub fn on_hook<F>(self, name: &str, before: &[&str], after: &[&str], handler: F) -> Self
    where
        F: Fn(&PluginContext, Value) -> Result<Value, RpcError> + Send + Sync + 'static,
    {
        let mut this = self.hook(name, before, after);
        this.handlers.insert(name.into(), Arc::new(handler));
        this
    }

    /// Subscribe to a topic (`*` for all) with a handler that gets the topic
    /// and the notification's params.
    pub fn on_notification<F>(self, topic: &str, handler: F) -> Self
    where
        F: Fn(&PluginContext, &str, Value) + Send + Sync + 'static,
    {
        let mut this = self.subscribe(topic);
        this.notification_handlers
            .insert(topic.into(), Arc::new(handler));
        this
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

/// The sink the host calls: answers to the plugin's own calls go straight to
/// their waiters; everything else is enqueued for the worker.
struct PluginSink {
    queue: Mutex<mpsc::Sender<RString>>,
    calls: Arc<Calls>,
}

impl MessageSink for PluginSink {
    fn send(&self, message: RString) {
        // Never panic across the boundary; a poisoned lock or a dead worker
        // just drops the message (the host's request then times out).
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if let Some(waiter) = self.waiter_for(message.as_str()) {
                if let Ok(v) = serde_json::from_str::<Value>(message.as_str()) {
                    let _ = waiter.send(v);
                }
                return;
            }
            if let Ok(tx) = self.queue.lock() {
                let _ = tx.send(message);
            }
        }));
    }
}

impl PluginSink {
    /// The waiter of a response to one of our calls, if `text` is one. Cheap
    /// pre-check: our ids start with `"<name>:`, which host requests never do.
    fn waiter_for(&self, text: &str) -> Option<mpsc::Sender<Value>> {
        let prefix = format!("\"{}:", self.calls.name);
        if !text.contains(&prefix) || text.contains("\"method\"") {
            return None;
        }
        let v: Value = serde_json::from_str(text).ok()?;
        let id = v.get("id")?.as_str()?;
        self.calls.waiters.lock().ok()?.remove(id)
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
            let calls = Arc::new(Calls {
                name: plugin.name.clone(),
                next_id: AtomicU64::new(1),
                waiters: Mutex::new(HashMap::new()),
            });
            let worker_calls = Arc::clone(&calls);
            std::thread::Builder::new()
                .name(format!("plugin-{}", plugin.name))
                .spawn(move || run(plugin, rx, host, worker_calls))
                .map_err(|e| format!("cannot spawn the plugin thread: {e}"))?;
            Ok(sink_box(PluginSink {
                queue: Mutex::new(tx),
                calls,
            }))
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

fn run(
    plugin: PluginBuilder,
    rx: mpsc::Receiver<RString>,
    host: Arc<MessageSinkBox>,
    calls: Arc<Calls>,
) {
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
            // A late answer to one of our calls (its waiter gave up): dropped.
            continue;
        };
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        let Some(id) = msg.get("id").cloned() else {
            notify(&plugin, ctx.as_ref(), &host, method, params);
            continue;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            handle(&plugin, &mut ctx, &host, &calls, method, params)
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
                let mut err = RpcError::internal(what);
                err.data = Some(json!({ "panic": true }));
                response_err(&id, &err)
            }
        };
        send(&host, &reply);
    }
}

/// Dispatch a notification to its topic's handler, else to the `*` handler.
/// Notifications before `init` are dropped.
fn notify(
    plugin: &PluginBuilder,
    ctx: Option<&PluginContext>,
    host: &Arc<MessageSinkBox>,
    method: &str,
    params: Value,
) {
    let Some(ctx) = ctx else { return };
    let Some(handler) = plugin
        .notification_handlers
        .get(method)
        .or_else(|| plugin.notification_handlers.get("*"))
    else {
        return;
    };
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| handler(ctx, method, params))) {
        let what = format!(
            "plugin {} panicked handling notification {method}: {}",
            plugin.name,
            panic_message(&*p)
        );
        send(
            host,
            &json!({"jsonrpc": "2.0", "method": "log",
                    "params": {"level": "broken", "message": what}}),
        );
    }
}

fn handle(
    plugin: &PluginBuilder,
    ctx: &mut Option<PluginContext>,
    host: &Arc<MessageSinkBox>,
    calls: &Arc<Calls>,
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
                calls: Arc::clone(calls),
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
