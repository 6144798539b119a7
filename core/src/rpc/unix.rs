//! The unix socket `<datadir>/lumen-rpc`, with Core Lightning's framing:
//! requests are read as a stream of JSON values (no delimiter needed), and
//! every response is followed by `\n\n`. pyln-client's `LightningRpc` and
//! lightning-cli habits work unchanged. Access is by file permission (0600).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lumen_sdk::error_codes as codes;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch};

use super::{Dispatcher, RpcError};

/// Largest single request accepted, in bytes.
const MAX_REQUEST: usize = 10 * 1024 * 1024;

/// Bind the socket (replacing a stale one: the data-dir lock proves no other
/// daemon owns it) with mode 0600.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    // The data dir is 0700, so nobody else can reach the socket in between.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Accept connections until `stop` turns true.
pub async fn serve(
    listener: UnixListener,
    path: PathBuf,
    dispatcher: Arc<Dispatcher>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let d = dispatcher.clone();
                    tokio::spawn(connection(stream, d));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "unix socket accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => break,
        }
    }
    let _ = std::fs::remove_file(&path);
}

fn response(id: Value, result: Result<Value, RpcError>) -> Value {
    match result {
        Ok(r) => json!({ "jsonrpc": "2.0", "id": id, "result": r }),
        Err(e) => json!({ "jsonrpc": "2.0", "id": id, "error": e.to_json() }),
    }
}

async fn handle_request(dispatcher: &Dispatcher, req: Value) -> Option<Value> {
    let Value::Object(mut obj) = req else {
        return Some(response(
            Value::Null,
            Err(RpcError::new(
                codes::INVALID_REQUEST,
                "a request must be a JSON object",
            )),
        ));
    };
    let id = obj.remove("id");
    let method = match obj.remove("method") {
        Some(Value::String(m)) => m,
        _ => {
            return Some(response(
                id.unwrap_or(Value::Null),
                Err(RpcError::new(
                    codes::INVALID_REQUEST,
                    "request has no 'method' string",
                )),
            ));
        }
    };
    if let Some(v) = obj.get("jsonrpc")
        && v != "2.0"
    {
        return Some(response(
            id.unwrap_or(Value::Null),
            Err(RpcError::new(
                codes::INVALID_REQUEST,
                "'jsonrpc' must be \"2.0\"",
            )),
        ));
    }
    let result = dispatcher.call_value(&method, obj.remove("params")).await;
    // No id: a notification, which gets no reply.
    id.map(|id| response(id, result))
}

async fn connection(stream: UnixStream, dispatcher: Arc<Dispatcher>) {
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<Value>(64);
    let writer_task = tokio::spawn(async move {
        while let Some(v) = rx.recv().await {
            let mut bytes = v.to_string().into_bytes();
            bytes.extend_from_slice(b"\n\n");
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });

    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    'read: loop {
        let n = match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut consumed = 0;
        {
            let mut stream = serde_json::Deserializer::from_slice(&buf).into_iter::<Value>();
            loop {
                match stream.next() {
                    Some(Ok(req)) => {
                        consumed = stream.byte_offset();
                        let d = dispatcher.clone();
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            if let Some(resp) = handle_request(&d, req).await {
                                let _ = tx.send(resp).await;
                            }
                        });
                    }
                    Some(Err(e)) if e.is_eof() => break,
                    Some(Err(e)) => {
                        // The stream cannot be resynchronised after bad JSON.
                        let err = RpcError::new(codes::PARSE_ERROR, format!("Parse error: {e}"));
                        let _ = tx.send(response(Value::Null, Err(err))).await;
                        break 'read;
                    }
                    None => {
                        consumed = buf.len();
                        break;
                    }
                }
            }
        }
        buf.drain(..consumed);
        if buf.len() > MAX_REQUEST {
            let err = RpcError::new(
                codes::INVALID_REQUEST,
                format!("request larger than {MAX_REQUEST} bytes"),
            );
            let _ = tx.send(response(Value::Null, Err(err))).await;
            break;
        }
    }
    drop(tx);
    let _ = writer_task.await;
}
