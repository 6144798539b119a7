//! `lumen-cli`: call any method of a running `lumend`.
//!
//! ```text
//! lumen-cli [--network N] [--datadir D] [--rpc-url U] METHOD [PARAMS...]
//! ```
//! Parameters are positional (`lumen-cli datastore mykey hello`) or
//! `key=value` (`lumen-cli datastore key='["a","b"]' string=hello`), as with
//! lightning-cli. Each value is read as JSON when it is valid JSON (numbers,
//! arrays, objects, true/false/null, "quoted strings") and as a plain string
//! otherwise. The result is printed as pretty JSON; an RPC error is printed
//! the same way and the exit code is 1 (2 when the node cannot be reached).
//!
//! By default the call goes over the unix socket `<datadir>/lumen-rpc`.
//! With `--rpc-url http://127.0.0.1:29835` (or `ws://…`) it goes over HTTP or
//! WebSocket, authenticated with the token in `<datadir>/rpc.cookie`
//! (or `--rpc-token`).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::{ArrayParams, ObjectParams};
use lumen_core::config::{Network, default_datadir};
use serde_json::{Value, json};

#[derive(Parser, Debug)]
#[command(
    name = "lumen-cli",
    version,
    about = "Call a method of a running lumend"
)]
struct Args {
    /// Network of the node (selects the default data dir).
    #[arg(long, env = "LUMEN_NETWORK", default_value = "regtest")]
    network: Network,
    /// The node's data dir (default: ~/.lumen/<network>).
    #[arg(long, env = "LUMEN_DATADIR")]
    datadir: Option<PathBuf>,
    /// Call over HTTP or WebSocket instead of the unix socket, e.g. http://127.0.0.1:29835.
    #[arg(long, env = "LUMEN_RPC_URL")]
    rpc_url: Option<String>,
    /// Bearer token for --rpc-url (default: read <datadir>/rpc.cookie).
    #[arg(long, env = "LUMEN_RPC_TOKEN", hide_env_values = true)]
    rpc_token: Option<String>,
    /// Method to call.
    method: String,
    /// Parameters: all positional, or all key=value.
    params: Vec<String>,
}

/// A value as lightning-cli reads it: JSON if it parses, else a string.
fn cli_value(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
}

fn is_param_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn build_params(raw: &[String]) -> Result<Value, String> {
    let keyed: Vec<Option<(&str, &str)>> = raw
        .iter()
        .map(|p| p.split_once('=').filter(|(k, _)| is_param_name(k)))
        .collect();
    if !raw.is_empty() && keyed.iter().all(Option::is_some) {
        let mut map = serde_json::Map::new();
        for (k, v) in keyed.into_iter().flatten() {
            if map.insert(k.to_string(), cli_value(v)).is_some() {
                return Err(format!("parameter '{k}' given twice"));
            }
        }
        Ok(Value::Object(map))
    } else if keyed.iter().any(Option::is_some) && keyed.iter().any(Option::is_none) {
        Err("mix of key=value and positional parameters; use one style (quote a positional value containing '=' as JSON, e.g. '\"a=b\"')".into())
    } else {
        Ok(Value::Array(raw.iter().map(|p| cli_value(p)).collect()))
    }
}

enum Outcome {
    Result(Value),
    RpcError(Value),
}

fn call_unix(socket: &PathBuf, method: &str, params: Value) -> Result<Outcome, String> {
    let mut stream = UnixStream::connect(socket).map_err(|e| {
        format!(
            "cannot connect to {}: {e} (is lumend running?)",
            socket.display()
        )
    })?;
    let req = json!({ "jsonrpc": "2.0", "id": format!("lumen-cli:{method}#{}", std::process::id()), "method": method, "params": params });
    stream
        .write_all(req.to_string().as_bytes())
        .map_err(|e| format!("sending request: {e}"))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream
            .read(&mut chunk)
            .map_err(|e| format!("reading response: {e}"))?;
        if n == 0 {
            return Err("lumend closed the connection without a response".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut it = serde_json::Deserializer::from_slice(&buf).into_iter::<Value>();
        match it.next() {
            Some(Ok(resp)) => return outcome(resp),
            Some(Err(e)) if e.is_eof() => continue,
            Some(Err(e)) => return Err(format!("bad response from lumend: {e}")),
            None => continue,
        }
    }
}

fn outcome(mut resp: Value) -> Result<Outcome, String> {
    if let Some(err) = resp.get_mut("error") {
        return Ok(Outcome::RpcError(err.take()));
    }
    match resp.get_mut("result") {
        Some(r) => Ok(Outcome::Result(r.take())),
        None => Err(format!("response has neither result nor error: {resp}")),
    }
}

async fn request<C: ClientT>(
    client: &C,
    method: &str,
    params: Value,
) -> Result<Result<Value, jsonrpsee::core::ClientError>, String> {
    Ok(match params {
        Value::Object(map) => {
            let mut p = ObjectParams::new();
            for (k, v) in map {
                p.insert(&k, v).map_err(|e| e.to_string())?;
            }
            client.request(method, p).await
        }
        Value::Array(items) => {
            let mut p = ArrayParams::new();
            for v in items {
                p.insert(v).map_err(|e| e.to_string())?;
            }
            client.request(method, p).await
        }
        _ => client.request(method, ArrayParams::new()).await,
    })
}

async fn call_remote(
    url: &str,
    token: &str,
    method: &str,
    params: Value,
) -> Result<Outcome, String> {
    use jsonrpsee::core::ClientError;
    let mut headers = jsonrpsee::http_client::HeaderMap::new();
    let auth = format!("Bearer {token}")
        .parse()
        .map_err(|_| "token is not a valid header value".to_string())?;
    headers.insert("Authorization", auth);
    let res = if url.starts_with("ws://") || url.starts_with("wss://") {
        let client = jsonrpsee::ws_client::WsClientBuilder::default()
            .set_headers(headers)
            .build(url)
            .await
            .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        request(&client, method, params).await?
    } else {
        let client = jsonrpsee::http_client::HttpClientBuilder::default()
            .set_headers(headers)
            .build(url)
            .map_err(|e| format!("bad url {url}: {e}"))?;
        request(&client, method, params).await?
    };
    match res {
        Ok(v) => Ok(Outcome::Result(v)),
        Err(ClientError::Call(e)) => Ok(Outcome::RpcError(
            serde_json::to_value(&e).map_err(|e| e.to_string())?,
        )),
        Err(e) => Err(format!("calling {url}: {e}")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let datadir = match args
        .datadir
        .clone()
        .map(Ok)
        .unwrap_or_else(|| default_datadir(args.network))
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("lumen-cli: {e}");
            return ExitCode::from(2);
        }
    };
    let params = match build_params(&args.params) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("lumen-cli: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match &args.rpc_url {
        None => call_unix(&datadir.join("lumen-rpc"), &args.method, params),
        Some(url) => {
            let token = match &args.rpc_token {
                Some(t) => t.clone(),
                None => match std::fs::read_to_string(datadir.join("rpc.cookie")) {
                    Ok(t) => t.trim().to_string(),
                    Err(e) => {
                        eprintln!(
                            "lumen-cli: cannot read {}: {e} (pass --rpc-token)",
                            datadir.join("rpc.cookie").display()
                        );
                        return ExitCode::from(2);
                    }
                },
            };
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(call_remote(url, &token, &args.method, params)),
                Err(e) => Err(format!("runtime: {e}")),
            }
        }
    };
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    match result {
        Ok(Outcome::Result(v)) => {
            println!("{}", pretty(&v));
            ExitCode::SUCCESS
        }
        Ok(Outcome::RpcError(e)) => {
            println!("{}", pretty(&e));
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("lumen-cli: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_styles() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            build_params(&s(&["a", "5", "[1]"])),
            Ok(json!(["a", 5, [1]]))
        );
        assert_eq!(
            build_params(&s(&["key=[\"a\",\"b\"]", "string=x=y"])),
            Ok(json!({"key": ["a", "b"], "string": "x=y"}))
        );
        assert_eq!(build_params(&s(&[])), Ok(json!([])));
        assert!(build_params(&s(&["key=a", "b"])).is_err());
        assert_eq!(build_params(&s(&["\"a=b\""])), Ok(json!(["a=b"])));
    }
}
