//! A Bitcoin Core compatible JSON-RPC subset served from the embedded chain,
//! so that other processes (a second `lumend` with the `bitcoind` backend,
//! or any tool that speaks to bitcoind) can share one regtest chain.
//!
//! HTTP with Basic auth, as bitcoind does. Requests may be JSON-RPC 1.0
//! (bitcoind's legacy replies: `{"result","error","id"}`, HTTP 500 on error,
//! 404 for an unknown method) or 2.0 (HTTP 200, 2.0 envelope). Methods:
//! getblockchaininfo, getblockcount, getbestblockhash, getblockhash,
//! getblockheader, getblock (verbosity 0/1/2), getrawtransaction,
//! sendrawtransaction, testmempoolaccept, gettxout, estimatesmartfee,
//! getmempoolinfo, getrawmempool, generatetoaddress, getnetworkinfo.

mod json;
mod methods;

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::chain::embedded::source::EmbeddedChain;

pub use crate::chain::core_rpc::codes;

/// An RPC failure in Core's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct CoreError {
    /// Core's code.
    pub code: i64,
    /// Core's message.
    pub message: String,
}

impl CoreError {
    /// New error.
    pub fn new(code: i64, message: impl Into<String>) -> CoreError {
        CoreError {
            code,
            message: message.into(),
        }
    }
}

/// Credentials: `user:password`.
#[derive(Clone)]
pub struct Credentials {
    expected: Arc<String>,
}

impl Credentials {
    /// Accept `user` / `password`.
    pub fn new(user: &str, password: &str) -> Credentials {
        Credentials {
            expected: Arc::new(crate::chain::core_rpc::basic_auth(&format!(
                "{user}:{password}"
            ))),
        }
    }

    fn accepts(&self, header: Option<&hyper::header::HeaderValue>) -> bool {
        header.is_some_and(|h| {
            crate::secret::constant_time_eq(h.as_bytes(), self.expected.as_bytes())
        })
    }
}

fn reply(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// One call: (HTTP status for legacy clients, response object).
fn call_one(chain: &EmbeddedChain, req: &Value) -> (StatusCode, Value) {
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let v2 = req.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let result = match (req.get("method").and_then(Value::as_str), req) {
        (Some(method), Value::Object(_)) => {
            let params = req.get("params").cloned().unwrap_or(Value::Null);
            methods::dispatch(chain, method, params)
        }
        _ => Err(CoreError::new(
            codes::INVALID_REQUEST,
            "Invalid Request object",
        )),
    };
    match (result, v2) {
        (Ok(r), true) => (
            StatusCode::OK,
            json!({ "jsonrpc": "2.0", "result": r, "id": id }),
        ),
        (Ok(r), false) => (
            StatusCode::OK,
            json!({ "result": r, "error": null, "id": id }),
        ),
        (Err(e), true) => (
            StatusCode::OK,
            json!({ "jsonrpc": "2.0", "error": { "code": e.code, "message": e.message }, "id": id }),
        ),
        (Err(e), false) => {
            let status = if e.code == codes::METHOD_NOT_FOUND {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            (
                status,
                json!({ "result": null, "error": { "code": e.code, "message": e.message }, "id": id }),
            )
        }
    }
}

async fn handle(
    req: Request<Incoming>,
    chain: Arc<EmbeddedChain>,
    creds: Credentials,
) -> Response<Full<Bytes>> {
    if !creds.accepts(req.headers().get(hyper::header::AUTHORIZATION)) {
        let mut r = reply(StatusCode::UNAUTHORIZED, Value::Null);
        r.headers_mut().insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_static("Basic realm=\"jsonrpc\""),
        );
        return r;
    }
    if req.method() != hyper::Method::POST {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "error": "JSON-RPC uses POST" }),
        );
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return reply(StatusCode::BAD_REQUEST, Value::Null),
    };
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            let e = json!({ "result": null, "error": { "code": codes::PARSE_ERROR, "message": "Parse error" }, "id": null });
            return reply(StatusCode::INTERNAL_SERVER_ERROR, e);
        }
    };
    // Chain calls take a lock and may mine: keep them off the async threads.
    let out = tokio::task::spawn_blocking(move || match &parsed {
        Value::Array(batch) => (
            StatusCode::OK,
            Value::Array(batch.iter().map(|r| call_one(&chain, r).1).collect()),
        ),
        single => call_one(&chain, single),
    })
    .await;
    match out {
        Ok((status, v)) => reply(status, v),
        Err(_) => reply(StatusCode::INTERNAL_SERVER_ERROR, Value::Null),
    }
}

/// Serve until `stop` turns true. Returns the bound address.
pub async fn serve(
    bind: SocketAddr,
    creds: Credentials,
    chain: Arc<EmbeddedChain>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let chain = chain.clone();
                    let creds = creds.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let chain = chain.clone();
                            let creds = creds.clone();
                            async move { Ok::<_, std::convert::Infallible>(handle(req, chain, creds).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                    });
                }
                _ = stop.changed() => break,
            }
        }
    });
    Ok((addr, task))
}
