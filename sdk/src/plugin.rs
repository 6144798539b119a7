//! The plugin side of the SDK: declare a plugin with [`PluginBuilder`],
//! export it with [`crate::export_plugin!`].
//!
//! The plugin handles every message on its own dedicated thread: the sink
//! the host calls only parses and enqueues (or, for a response to one of the
//! plugin's own calls, hands it straight to the waiting handler). Every
//! handler runs under `catch_unwind`; a panic becomes a JSON-RPC error
//! response (code `-32603`, `data.panic` true) plus a `log` notification, and the plugin keeps
//! serving.
//!
//! Handlers are synchronous and run one at a time. A handler may call the
//! node ([`PluginContext::call`]) and block for the answer; other messages
//! from the host wait in the queue meanwhile, so keep such calls short and
//! always give them a timeout.

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

/// Waiters for the answers to the plugin's own requests, by id.
type Pending = Mutex<HashMap<String, mpsc::SyncSender<Value>>>;

/// Why a call from the plugin to the node failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The node answered with a JSON-RPC error.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// No answer within the timeout.
    #[error("the node did not answer {method} within {timeout:?}")]
    Timeout {
        /// The method.
        method: String,
        /// The timeout.
        timeout: Duration,
    },
    /// The answer was not a valid JSON-RPC response, or its result did not
    /// have the expected shape.
    #[error("malformed answer from the node: {0}")]
    Malformed(String),
}

impl From<CallError> for RpcError {
    /// Lets a handler use `?` on [`PluginContext::call`]: the node's own
    /// error passes through; a timeout or malformed answer becomes an
    /// internal error naming it.
    fn from(e: CallError) -> RpcError {
        match e {
            CallError::Rpc(err) => err,
            other => RpcError::internal(other.to_string()),
        }
    }
}

/// What a handler sees: the plugin's resolved options and the node's
/// configuration from `init`, a way to send notifications, and a way to call
/// the node ([`PluginContext::call`]).
pub struct PluginContext {
    name: String,
    options: Map<String, Value>,
    configuration: InitConfiguration,
    host: Arc<MessageSinkBox>,
    pending: Arc<Pending>,
    next_id: Arc<AtomicU64>,
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

    /// Send a `log` notification (`level`: `debug`, `info`, `unusual`,
    /// `broken`).
    pub fn log(&self, level: &str, message: &str) {
        self.notify("log", json!({"level": level, "message": message}));
    }

    /// Call a node RPC method (or a plugin-only one such as `sendcustommsg`)
    /// and wait for its result, at most `timeout`. Blocks this plugin's
    /// handler thread meanwhile. The request id is `"<plugin name>:N"`.
    pub fn call(&self, method: &str, params: Value, timeout: Duration) -> Result<Value, CallError> {
        let id = format!(
            "{}:{}",
            self.name,
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let (tx, rx) = mpsc::sync_channel(1);
        self.pending
            .lock()
            .map_err(|_| CallError::Malformed("pending table poisoned".into()))?
            .insert(id.clone(), tx);
        send(
            &self.host,
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        );
        let answer = rx.recv_timeout(timeout);
        if let Ok(mut p) = self.pending.lock() {
            p.remove(&id);
        }
        let response = answer.map_err(|_| CallError::Timeout {
            method: method.to_string(),
            timeout,
        })?;
        if let Some(err) = response.get("error") {
            let err: RpcError = serde_json::from_value(err.clone())
                .map_err(|e| CallError::Malformed(format!("bad error object: {e}")))?;
            return Err(CallError::Rpc(err));
        }
        response
            .get("result")
            .cloned()
            .ok_or_else(|| CallError::Malformed("response without result".into()))
    }

    /// [`PluginContext::call`] with typed params and result.
    pub fn call_typed<P, R>(
        &self,
        method: &str,
        params: &P,
        timeout: Duration,
    ) -> Result<R, CallError>
    where
        P: serde::Serialize,
        R: serde::de::DeserializeOwned,
    {
        let params =
            serde_json::to_value(params).map_err(|e| CallError::Malformed(e.to_string()))?;
        let result = self.call(method, params, timeout)?;
        serde_json::from_value(result)
            .map_err(|e| CallError::Malformed(format!("{method} result: {e}")))
    }
}

/// Declares a plugin: manifest data and method handlers.
pub struct PluginBuilder {
    name: String,
    manifest: Manifest,
    handlers: HashMap<String, Handler>,
    hooks: HashMap<String, Handler>,
    notifications: HashMap<String, NotificationHandler>,
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
            hooks: HashMap::new(),
            notifications: HashMap::new(),
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

    /// Subscribe to a notification topic without a handler (declared only:
    /// such notifications are received and dropped).
    pub fn subscribe(mut self, topic: &str) -> Self {
        self.manifest.subscriptions.push(topic.into());
        self
    }

    /// Subscribe to a notification topic (`*` = every topic) and handle it.
    /// The handler gets the topic and the raw `params` (Core Lightning sends
    /// most payloads wrapped as `{"<topic>": payload}`). A topic's own
    /// handler wins over a `*` handler.
    pub fn on_notification<F>(mut self, topic: &str, handler: F) -> Self
    where
        F: Fn(&PluginContext, &str, Value) + Send + Sync + 'static,
    {
        self.manifest.subscriptions.push(topic.into());
        self.notifications.insert(topic.into(), Arc::new(handler));
        self
    }

    /// Register for a hook without a handler: the plugin answers
    /// `{"result": "continue"}` to it.
    pub fn hook(mut self, name: &str, before: &[&str], after: &[&str]) -> Self {
        self.manifest.hooks.push(HookDecl {
            name: name.into(),
            before: before.iter().map(|s| s.to_string()).collect(),
            after: after.iter().map(|s| s.to_string()).collect(),
        });
        self
    }

    /// Register for a hook with a raw JSON handler: it gets the hook's
    /// payload and returns its result (e.g. `{"result": "continue"}`). An
    /// error counts as `continue` on the node's side (and is logged there).
    /// See [`crate::hooks`] for typed payloads ([`PluginBuilder::on_hook`]).
    pub fn hook_handler<F>(
        mut self,
        name: &str,
        before: &[&str],
        after: &[&str],
        handler: F,
    ) -> Self
    where
        F: Fn(&PluginContext, Value) -> Result<Value, RpcError> + Send + Sync + 'static,
    {
        self = self.hook(name, before, after);
        self.hooks.insert(name.into(), Arc::new(handler));
        self
    }

    /// Register for hook `H` with a typed handler (see [`crate::hooks`]). A
    /// payload that does not parse is answered with `-32602`, which the node
    /// treats as `continue`.
    pub fn on_hook<H, F>(self, before: &[&str], after: &[&str], handler: F) -> Self
    where
        H: crate::hooks::Hook,
        F: Fn(&PluginContext, H::Payload) -> Result<H::Result, RpcError> + Send + Sync + 'static,
    {
        self.hook_handler(H::NAME, before, after, move |ctx, params| {
            let payload: H::Payload = serde_json::from_value(params)
                .map_err(|e| RpcError::invalid_params(format!("bad {} payload: {e}", H::NAME)))?;
            let result = handler(ctx, payload)?;
            serde_json::to_value(result).map_err(|e| RpcError::internal(e.to_string()))
        })
    }

    /// Declare a notification topic this plugin may emit.
    pub fn notification(mut self, method: &str) -> Self {
        self.manifest.notifications.push(NotificationDecl {
            method: method.into(),
        });
        self
    }

    /// Declare a custom message type (≥ 32768) this plugin handles through
    /// the `custommsg` hook. Odd types need no declaration; an even one
    /// must be declared, or the node hangs up on peers that send it (BOLT 1)
    /// and refuses to send it.
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

/// A message from the host, parsed by the sink.
enum Inbound {
    Message(Value),
    Unparseable(String),
}

/// The sink the host calls: parse, then hand a response to the handler
/// waiting for it or enqueue the message for the worker. Never blocks.
struct PluginSink {
    queue: Mutex<mpsc::Sender<Inbound>>,
    pending: Arc<Pending>,
}

impl PluginSink {
    fn deliver(&self, text: &str) {
        let inbound = match serde_json::from_str::<Value>(text) {
            Ok(msg) => {
                let is_response = msg.get("method").is_none()
                    && (msg.get("result").is_some() || msg.get("error").is_some());
                if is_response {
                    let waiter = msg
                        .get("id")
                        .and_then(Value::as_str)
                        .and_then(|id| self.pending.lock().ok()?.remove(id));
                    // A late answer to a timed-out call, or an unknown id: dropped.
                    if let Some(tx) = waiter {
                        let _ = tx.try_send(msg);
                    }
                    return;
                }
                Inbound::Message(msg)
            }
            Err(e) => Inbound::Unparseable(e.to_string()),
        };
        if let Ok(tx) = self.queue.lock() {
            let _ = tx.send(inbound);
        }
    }
}

impl MessageSink for PluginSink {
    fn send(&self, message: RString) {
        // Never panic across the boundary; a poisoned lock or a dead worker
        // just drops the message (the host's request then times out).
        let _ = catch_unwind(AssertUnwindSafe(|| self.deliver(message.as_str())));
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
            let (tx, rx) = mpsc::channel::<Inbound>();
            let host = Arc::new(host);
            let pending: Arc<Pending> = Arc::default();
            let worker_pending = Arc::clone(&pending);
            std::thread::Builder::new()
                .name(format!("plugin-{}", plugin.name))
                .spawn(move || run(plugin, rx, host, worker_pending))
                .map_err(|e| format!("cannot spawn the plugin thread: {e}"))?;
            Ok(sink_box(PluginSink {
                queue: Mutex::new(tx),
                pending,
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
    rx: mpsc::Receiver<Inbound>,
    host: Arc<MessageSinkBox>,
    pending: Arc<Pending>,
) {
    let mut ctx: Option<PluginContext> = None;
    let next_id = Arc::new(AtomicU64::new(1));
    for inbound in rx {
        let mut msg = match inbound {
            Inbound::Message(msg) => msg,
            Inbound::Unparseable(e) => {
                let err = RpcError::new(crate::error_codes::PARSE_ERROR, e);
                send(&host, &response_err(&Value::Null, &err));
                continue;
            }
        };
        // Taken, not cloned: params can be large (onions, PSBTs).
        let params = msg
            .get_mut("params")
            .map(Value::take)
            .unwrap_or(Value::Null);
        let Some(method) = msg.get("method").and_then(Value::as_str) else {
            // Neither a request nor a notification nor an awaited response.
            continue;
        };
        let Some(id) = msg.get("id").cloned() else {
            if let Some(ctx) = &ctx {
                dispatch_notification(&plugin, ctx, &host, method, params);
            }
            continue;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            handle(&plugin, &mut ctx, &host, &pending, &next_id, method, params)
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
                log_broken(&host, &what);
                // `data.panic` lets the host tell a panic from an ordinary
                // internal error (it marks the plugin failed).
                let mut err = RpcError::internal(what);
                err.data = Some(json!({ "panic": true }));
                response_err(&id, &err)
            }
        };
        send(&host, &reply);
    }
}

fn log_broken(host: &MessageSinkBox, what: &str) {
    send(
        host,
        &json!({"jsonrpc": "2.0", "method": "log",
                "params": {"level": "broken", "message": what}}),
    );
}

/// Dispatch a notification to the topic's handler, else to the `*` handler.
fn dispatch_notification(
    plugin: &PluginBuilder,
    ctx: &PluginContext,
    host: &MessageSinkBox,
    topic: &str,
    params: Value,
) {
    let Some(handler) = plugin
        .notifications
        .get(topic)
        .or_else(|| plugin.notifications.get("*"))
    else {
        return;
    };
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| handler(ctx, topic, params))) {
        let what = format!(
            "plugin {} panicked handling notification {topic}: {}",
            plugin.name,
            panic_message(&*p)
        );
        log_broken(host, &what);
    }
}

fn handle(
    plugin: &PluginBuilder,
    ctx: &mut Option<PluginContext>,
    host: &Arc<MessageSinkBox>,
    pending: &Arc<Pending>,
    next_id: &Arc<AtomicU64>,
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
                name: plugin.name.clone(),
                options: init.options,
                configuration: init.configuration,
                host: Arc::clone(host),
                pending: Arc::clone(pending),
                next_id: Arc::clone(next_id),
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
                .or_else(|| plugin.hooks.get(method));
            let Some(handler) = handler else {
                if plugin.manifest.hooks.iter().any(|h| h.name == method) {
                    // A hook registered without a handler.
                    return Ok(json!({"result": "continue"}));
                }
                return Err(RpcError::method_not_found(method));
            };
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
