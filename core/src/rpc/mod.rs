//! The node's JSON-RPC control surface.
//!
//! One [`Dispatcher`] holds the method table; every transport feeds it:
//! HTTP and WebSocket through jsonrpsee ([`http`]), and the unix socket with
//! Core Lightning's framing ([`unix`]). So a method behaves the same on every
//! transport — same parameters, same errors.
//!
//! Parameters may come by position or by name (as with lightning-cli); `null`
//! means "not given". Errors carry stable codes from
//! [`lumen_sdk::error_codes`] and a message that says what was wrong.

pub mod dev;
pub mod http;
pub mod invoice;
pub mod methods;
pub mod params;
pub mod peers;
pub mod unix;
pub mod wallet;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use lumen_sdk::error_codes as codes;
use serde_json::Value;

pub use params::{ParamSpec, Params};

/// A JSON-RPC error: stable code, clear message, optional data.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// Stable code.
    pub code: i32,
    /// What was wrong.
    pub message: String,
    /// Machine-readable detail, e.g. `{"param": "key"}`.
    pub data: Option<Value>,
}

/// The plugin protocol's error object, field for field.
impl From<lumen_sdk::protocol::RpcError> for RpcError {
    fn from(e: lumen_sdk::protocol::RpcError) -> Self {
        Self {
            code: e.code,
            message: e.message,
            data: e.data,
        }
    }
}

impl From<RpcError> for lumen_sdk::protocol::RpcError {
    fn from(e: RpcError) -> Self {
        Self {
            code: e.code,
            message: e.message,
            data: e.data,
        }
    }
}

impl RpcError {
    /// An error with a code and message.
    pub fn new(code: i32, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// -32602 naming the parameter.
    pub fn invalid_param(param: &str, reason: impl std::fmt::Display) -> RpcError {
        RpcError {
            code: codes::INVALID_PARAMS,
            message: format!("parameter '{param}': {reason}"),
            data: Some(serde_json::json!({ "param": param })),
        }
    }

    /// -32601 naming the method.
    pub fn unknown_method(method: &str) -> RpcError {
        RpcError {
            code: codes::METHOD_NOT_FOUND,
            message: format!("Unknown command '{method}'"),
            data: Some(serde_json::json!({ "method": method })),
        }
    }

    /// -32603.
    pub fn internal(message: impl Into<String>) -> RpcError {
        RpcError::new(codes::INTERNAL_ERROR, message)
    }

    /// The error as a JSON-RPC `error` object.
    pub fn to_json(&self) -> Value {
        let mut obj = serde_json::json!({ "code": self.code, "message": self.message });
        if let (Some(d), Some(map)) = (&self.data, obj.as_object_mut()) {
            map.insert("data".into(), d.clone());
        }
        obj
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

/// Code for calls refused because the node is shutting down (Core
/// Lightning's `LIGHTNINGD_SHUTDOWN`).
pub const SHUTTING_DOWN: i32 = lumen_sdk::error_codes::LIGHTNINGD_SHUTDOWN;

impl RpcError {
    /// The node is shutting down and takes no new calls.
    pub fn shutting_down() -> RpcError {
        RpcError::new(SHUTTING_DOWN, "lumend is shutting down")
    }
}

/// Run blocking work (store reads and writes) off the async threads; a
/// task that panicked or was cancelled is an internal error.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, RpcError>
where
    F: FnOnce() -> Result<T, RpcError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RpcError::internal(format!("blocking task failed: {e}")))?
}

/// The future a handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, RpcError>> + Send>>;
/// A method implementation: validated params in, JSON result out.
pub type Handler = Arc<dyn Fn(Params) -> HandlerFuture + Send + Sync>;

/// A registered method.
#[derive(Clone)]
pub struct Method {
    /// Name.
    pub name: String,
    /// Parameters in positional order.
    pub params: Vec<ParamSpec>,
    /// One-line description for `help`.
    pub description: String,
    /// Implementation.
    pub handler: Handler,
    /// Params are not checked against `params`: the handler gets them raw
    /// ([`Params::raw`]). Plugin methods, whose parameters the node does not know.
    pub passthrough: bool,
    /// Usage text after the name, when `params` does not describe it.
    pub usage_text: Option<String>,
}

impl Method {
    /// A method from an async function of its validated parameters.
    pub fn new<F, Fut>(name: &str, params: &[ParamSpec], description: &str, f: F) -> Method
    where
        F: Fn(Params) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, RpcError>> + Send + 'static,
    {
        Method {
            name: name.to_string(),
            params: params.to_vec(),
            description: description.to_string(),
            handler: Arc::new(move |p| Box::pin(f(p))),
            passthrough: false,
            usage_text: None,
        }
    }

    /// A method whose params are passed on unchecked ([`Params::raw`]), with
    /// a free-form usage text (a plugin's method).
    pub fn passthrough<F, Fut>(name: &str, usage: &str, description: &str, f: F) -> Method
    where
        F: Fn(Params) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, RpcError>> + Send + 'static,
    {
        let mut m = Method::new(name, &[], description, f);
        m.passthrough = true;
        m.usage_text = Some(usage.to_string());
        m
    }

    /// `name req [opt] …`, as `help` prints it.
    pub fn usage(&self) -> String {
        let mut s = self.name.clone();
        if let Some(u) = self.usage_text.as_deref().filter(|u| !u.is_empty()) {
            s.push(' ');
            s.push_str(u);
        }
        for p in &self.params {
            s.push(' ');
            if p.required {
                s.push_str(p.name);
            } else {
                s.push('[');
                s.push_str(p.name);
                s.push(']');
            }
        }
        s
    }
}

/// What a [`CallHook`] decided about a call from outside.
#[derive(Debug)]
pub enum Intercept {
    /// Run it as it is.
    Continue,
    /// Run this call instead.
    Replace {
        /// Method.
        method: String,
        /// Params.
        params: Value,
    },
    /// Answer with this, without running it.
    Return(Result<Value, RpcError>),
}

/// Sees every call that comes from outside (the RPC transports) before it
/// runs: the plugins' `rpc_command` hook.
pub trait CallHook: Send + Sync {
    /// Whether to intercept at all (cheap; checked on every call).
    fn active(&self) -> bool;
    /// Decide about one call.
    fn intercept(&self, method: String, params: Value) -> InterceptFuture;
}

/// The future a [`CallHook`] returns.
pub type InterceptFuture = Pin<Box<dyn Future<Output = Intercept> + Send>>;

/// The method table and the in-flight accounting used for graceful shutdown.
#[derive(Default)]
pub struct Dispatcher {
    methods: RwLock<BTreeMap<String, Method>>,
    in_flight: AtomicUsize,
    shutting_down: AtomicBool,
    call_hook: RwLock<Option<Arc<dyn CallHook>>>,
}

/// Decrements the in-flight count when a call ends, however it ends.
struct InFlight<'a>(&'a Dispatcher);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Dispatcher {
    /// An empty table.
    pub fn new() -> Dispatcher {
        Dispatcher::default()
    }

    /// Add a method; refuses a name that is taken.
    pub fn register(&self, method: Method) -> Result<(), String> {
        let mut table = self
            .methods
            .write()
            .map_err(|_| "method table poisoned".to_string())?;
        if table.contains_key(&method.name) {
            return Err(format!("method '{}' is already registered", method.name));
        }
        table.insert(method.name.clone(), method);
        Ok(())
    }

    /// Remove a method (a stopped plugin's); whether it was there.
    pub fn unregister(&self, name: &str) -> bool {
        self.methods
            .write()
            .map(|mut t| t.remove(name).is_some())
            .unwrap_or(false)
    }

    /// Install the hook that sees calls from outside ([`Dispatcher::call`]).
    pub fn set_call_hook(&self, hook: Arc<dyn CallHook>) {
        if let Ok(mut h) = self.call_hook.write() {
            *h = Some(hook);
        }
    }

    /// A snapshot of every method, sorted by name.
    pub fn methods(&self) -> Vec<Method> {
        self.methods
            .read()
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether `name` is served.
    pub fn has(&self, name: &str) -> bool {
        self.methods
            .read()
            .map(|t| t.contains_key(name))
            .unwrap_or(false)
    }

    /// Run one call from outside (an RPC transport): the [`CallHook`], if
    /// any, sees it first. `params` is the raw JSON of the `params` member.
    pub async fn call(&self, method: &str, params: Option<&str>) -> Result<Value, RpcError> {
        self.call_value(method, params::parse_params(params)?).await
    }

    /// [`Dispatcher::call`] with `params` already parsed (`None`: no
    /// `params` member). They are parsed once, whatever the path.
    pub async fn call_value(&self, method: &str, params: Option<Value>) -> Result<Value, RpcError> {
        let hook = self
            .call_hook
            .read()
            .ok()
            .and_then(|h| h.clone())
            .filter(|h| h.active());
        let Some(hook) = hook else {
            return self.call_internal(method, params).await;
        };
        let payload = params
            .clone()
            .unwrap_or_else(|| Value::Object(Default::default()));
        match hook.intercept(method.to_string(), payload).await {
            Intercept::Continue => self.call_internal(method, params).await,
            Intercept::Replace { method, params } => {
                self.call_internal(&method, Some(params)).await
            }
            Intercept::Return(r) => r,
        }
    }

    /// Run one call without the [`CallHook`] (a plugin's own calls, and the
    /// node's).
    pub async fn call_internal(
        &self,
        method: &str,
        params: Option<Value>,
    ) -> Result<Value, RpcError> {
        if self.shutting_down.load(Ordering::Acquire) {
            return Err(RpcError::shutting_down());
        }
        let Some(m) = self
            .methods
            .read()
            .ok()
            .and_then(|t| t.get(method).cloned())
        else {
            return Err(RpcError::unknown_method(method));
        };
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let _guard = InFlight(self);
        let params = params.unwrap_or(Value::Null);
        let params = if m.passthrough {
            Params::unchecked(params)
        } else {
            Params::from_value(method, &m.params, params)?
        };
        tracing::debug!(target: "lumen_core::rpc", method, "call");
        (m.handler)(params).await
    }

    /// Refuse new calls from now on.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
    }

    /// Wait until at most `allowed` calls are running (the caller may itself
    /// be one of them, e.g. `stop`).
    pub async fn wait_idle(&self, allowed: usize) {
        while self.in_flight.load(Ordering::Acquire) > allowed {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
}

/// Generate a fresh RPC token and write it to `<datadir>/rpc.cookie` (0600).
pub fn write_cookie(datadir: &std::path::Path) -> std::io::Result<String> {
    let token = crate::secret::random_hex(32)?;
    crate::datadir::write_private(&datadir.join(COOKIE_FILE), format!("{token}\n").as_bytes())?;
    Ok(token)
}

/// The cookie file name.
pub const COOKIE_FILE: &str = "rpc.cookie";
/// The unix socket name.
pub const SOCKET_FILE: &str = "lumen-rpc";
