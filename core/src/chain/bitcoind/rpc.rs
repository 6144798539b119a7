//! A small async JSON-RPC client for Bitcoin Core over HTTP: Basic auth from
//! a cookie file (re-read when Core answers 401, since Core writes a new one
//! at every start) or a user and password, single calls and batches.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

pub use crate::chain::core_rpc::codes;

/// How the client proves who it is.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// Core's `.cookie` file (`__cookie__:<password>`), re-read when refused.
    Cookie(PathBuf),
    /// `rpcuser` / `rpcpassword` (or an `rpcauth` entry).
    UserPass {
        /// User.
        user: String,
        /// Password.
        password: String,
    },
}

impl std::fmt::Debug for Auth {
    // The password never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Cookie(p) => f.debug_tuple("Cookie").field(p).finish(),
            Auth::UserPass { user, .. } => f
                .debug_struct("UserPass")
                .field("user", user)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// No answer: connection refused, reset, timed out.
    #[error("cannot reach Bitcoin Core at {url}: {reason}")]
    Transport {
        /// The endpoint.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The credentials could not be read, or Core refused them.
    #[error("cannot authenticate to Bitcoin Core at {url}: {what}")]
    Auth {
        /// The endpoint.
        url: String,
        /// Which credentials, and what to check.
        what: String,
    },
    /// Core answered with an error object.
    #[error("Bitcoin Core error {code}: {message}")]
    Core {
        /// Core's code.
        code: i64,
        /// Core's message.
        message: String,
    },
    /// The answer was not what Core sends.
    #[error("unexpected reply from Bitcoin Core: {0}")]
    Protocol(String),
}

impl RpcError {
    /// Core's error code, if Core answered with one.
    pub fn core_code(&self) -> Option<i64> {
        match self {
            RpcError::Core { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// How long one HTTP exchange may take (a full block over a slow link fits).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Counters of what the client sent, for measurements and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RpcStats {
    /// JSON-RPC calls (a batch of n counts n).
    pub calls: u64,
    /// HTTP requests (a batch counts 1; a 401 retry counts again).
    pub requests: u64,
}

/// The client. Cheap to share behind an `Arc`; connections are pooled.
pub struct RpcClient {
    http: Client<HttpConnector, Full<Bytes>>,
    uri: Uri,
    url: String,
    auth: Auth,
    header: Mutex<Option<HeaderValue>>,
    next_id: AtomicU64,
    calls: AtomicU64,
    requests: AtomicU64,
}

/// Check a Bitcoin Core URL: `http://host[:port][/path]`, no credentials in it.
pub fn parse_url(url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("'{url}' is not a URL: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!(
            "'{url}' must start with http:// (Bitcoin Core's RPC does not speak TLS)"
        ));
    }
    let Some(authority) = uri.authority() else {
        return Err(format!("'{url}' has no host"));
    };
    if authority.as_str().contains('@') {
        return Err(format!(
            "'{}' carries credentials; set the cookie or user and password options instead",
            uri.host().unwrap_or("")
        ));
    }
    Ok(uri)
}

fn basic(user_colon_password: &str) -> Result<HeaderValue, String> {
    let mut v = HeaderValue::from_str(&crate::chain::core_rpc::basic_auth(user_colon_password))
        .map_err(|_| "credentials are not valid in an HTTP header".to_string())?;
    v.set_sensitive(true);
    Ok(v)
}

impl RpcClient {
    /// A client for `url` (see [`parse_url`]).
    pub fn new(url: &str, auth: Auth) -> Result<RpcClient, String> {
        let uri = parse_url(url)?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let http = Client::builder(TokioExecutor::new())
            // Core closes idle connections after -rpcservertimeout (30 s).
            .pool_idle_timeout(Duration::from_secs(20))
            .build(connector);
        Ok(RpcClient {
            http,
            url: url.to_string(),
            uri,
            auth,
            header: Mutex::new(None),
            next_id: AtomicU64::new(1),
            calls: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        })
    }

    /// The endpoint, as configured.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// What has been sent so far.
    pub fn stats(&self) -> RpcStats {
        RpcStats {
            calls: self.calls.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
        }
    }

    fn auth_error(&self, what: String) -> RpcError {
        RpcError::Auth {
            url: self.url.clone(),
            what,
        }
    }

    /// The Authorization header; `reload` re-reads the cookie file.
    async fn auth_header(&self, reload: bool) -> Result<HeaderValue, RpcError> {
        if !reload
            && let Ok(guard) = self.header.lock()
            && let Some(h) = guard.as_ref()
        {
            return Ok(h.clone());
        }
        let value = match &self.auth {
            Auth::UserPass { user, password } => {
                basic(&format!("{user}:{password}")).map_err(|e| self.auth_error(e))?
            }
            Auth::Cookie(path) => {
                let text = tokio::fs::read_to_string(path).await.map_err(|e| {
                    self.auth_error(format!(
                        "cannot read the cookie file {}: {e} (is bitcoind running with that data dir? \
                         or set a user and password)",
                        path.display()
                    ))
                })?;
                let text = text.trim();
                if !text.contains(':') {
                    return Err(self.auth_error(format!(
                        "the cookie file {} does not hold user:password",
                        path.display()
                    )));
                }
                basic(text).map_err(|e| self.auth_error(e))?
            }
        };
        if let Ok(mut guard) = self.header.lock() {
            *guard = Some(value.clone());
        }
        Ok(value)
    }

    fn transport(&self, reason: impl std::fmt::Display) -> RpcError {
        RpcError::Transport {
            url: self.url.clone(),
            reason: reason.to_string(),
        }
    }

    /// POST one JSON body; the parsed JSON reply. A refused cookie is re-read
    /// once: Core writes a new one each time it starts.
    async fn post(&self, body: Bytes) -> Result<Value, RpcError> {
        let retries = usize::from(matches!(self.auth, Auth::Cookie(_)));
        for attempt in 0..=retries {
            let header = self.auth_header(attempt > 0).await?;
            let req = Request::post(self.uri.clone())
                .header(CONTENT_TYPE, "application/json")
                .header(AUTHORIZATION, header)
                .body(Full::new(body.clone()))
                .map_err(|e| RpcError::Protocol(format!("cannot build the request: {e}")))?;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let exchange = async {
                let resp = self
                    .http
                    .request(req)
                    .await
                    .map_err(|e| self.transport(error_chain(&e)))?;
                let status = resp.status();
                let bytes = resp
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| self.transport(e))?
                    .to_bytes();
                Ok::<_, RpcError>((status, bytes))
            };
            let (status, bytes) = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
                .await
                .map_err(|_| self.transport(format!("no answer within {REQUEST_TIMEOUT:?}")))??;
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                if attempt < retries {
                    continue;
                }
                return Err(self.auth_error(match &self.auth {
                    Auth::Cookie(p) => format!(
                        "it refused the cookie from {} (HTTP {status}; is that this bitcoind's data dir?)",
                        p.display()
                    ),
                    Auth::UserPass { user, .. } => {
                        format!("it refused user '{user}' (HTTP {status}; check the user and password)")
                    }
                }));
            }
            // Core answers JSON on 200, 404 (unknown method) and 500 (errors).
            return serde_json::from_slice(&bytes).map_err(|_| {
                RpcError::Protocol(format!(
                    "HTTP {status} with a body that is not JSON ({} bytes)",
                    bytes.len()
                ))
            });
        }
        Err(self.auth_error("it refused the credentials".into()))
    }

    /// One call.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({ "jsonrpc": "1.0", "id": id, "method": method, "params": params });
        self.calls.fetch_add(1, Ordering::Relaxed);
        let reply = self.post(Bytes::from(body.to_string())).await?;
        parse_reply(&reply)
    }

    /// Several calls in one HTTP request; one result per call, in order.
    pub async fn batch(
        &self,
        calls: &[(&str, Value)],
    ) -> Result<Vec<Result<Value, RpcError>>, RpcError> {
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let first = self
            .next_id
            .fetch_add(calls.len() as u64, Ordering::Relaxed);
        let body: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(n, (method, params))| {
                json!({ "jsonrpc": "1.0", "id": first + n as u64, "method": method, "params": params })
            })
            .collect();
        self.calls.fetch_add(calls.len() as u64, Ordering::Relaxed);
        let reply = self
            .post(Bytes::from(Value::Array(body).to_string()))
            .await?;
        let Value::Array(replies) = reply else {
            // Core answers a refused batch with one error object.
            return Err(match parse_reply(&reply) {
                Err(e) => e,
                Ok(_) => RpcError::Protocol("a batch was answered with a single reply".into()),
            });
        };
        // Replies may come in any order: match them by id.
        let mut out: Vec<Option<Result<Value, RpcError>>> = vec![None; calls.len()];
        for r in &replies {
            let slot = r
                .get("id")
                .and_then(Value::as_u64)
                .and_then(|id| id.checked_sub(first))
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n < calls.len());
            if let Some(n) = slot {
                out[n] = Some(parse_reply(r));
            }
        }
        out.into_iter()
            .enumerate()
            .map(|(n, r)| {
                r.ok_or_else(|| RpcError::Protocol(format!("no reply to batch entry {n}")))
            })
            .collect()
    }
}

/// The result of one JSON-RPC reply object (1.0 or 2.0 envelope).
fn parse_reply(reply: &Value) -> Result<Value, RpcError> {
    match reply.get("error") {
        Some(e) if !e.is_null() => Err(RpcError::Core {
            code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        }),
        _ => reply
            .get("result")
            .cloned()
            .ok_or_else(|| RpcError::Protocol("a reply with neither result nor error".into())),
    }
}

/// An error and its causes on one line ("client error (Connect): Connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(parse_url("http://127.0.0.1:18443").is_ok());
        assert!(parse_url("http://127.0.0.1:18443/wallet/w").is_ok());
        assert!(parse_url("https://127.0.0.1:18443").is_err());
        assert!(parse_url("127.0.0.1:18443").is_err());
        let e = parse_url("http://u:secret@127.0.0.1:1").expect_err("creds");
        assert!(!e.contains("secret"), "{e}");
    }

    #[test]
    fn replies() {
        assert_eq!(
            parse_reply(&json!({"result": 5, "error": null, "id": 1})),
            Ok(json!(5))
        );
        assert_eq!(
            parse_reply(&json!({"jsonrpc": "2.0", "result": null, "id": 1})),
            Ok(Value::Null)
        );
        assert_eq!(
            parse_reply(
                &json!({"result": null, "error": {"code": -8, "message": "Block height out of range"}, "id": 1})
            ),
            Err(RpcError::Core {
                code: -8,
                message: "Block height out of range".into()
            })
        );
        assert!(matches!(
            parse_reply(&json!({"id": 1})),
            Err(RpcError::Protocol(_))
        ));
    }

    #[test]
    fn password_is_not_debug_printed() {
        let a = Auth::UserPass {
            user: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{a:?}").contains("hunter2"));
    }
}
