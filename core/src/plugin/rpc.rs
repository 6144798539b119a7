//! The `plugin` RPC in Core Lightning's shape (`list`, `start`, `stop`,
//! `rescan`), and the `rpc_command` hook on calls from outside.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use lumen_sdk::error_codes as codes;
use lumen_sdk::hooks::{RpcCommandCall, RpcCommandPayload, RpcCommandResult};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{PluginManager, Status};
use crate::rpc::{CallHook, Intercept, InterceptFuture, Method, RpcError};

/// Register `plugin` and install the `rpc_command` hook.
pub fn register(manager: &Arc<PluginManager>) -> Result<(), String> {
    let weak = Arc::downgrade(manager);
    manager.dispatcher().register(Method::passthrough(
        "plugin",
        "subcommand [plugin] [options…]",
        "Manage plugins: list, start PATH [k=v…], stop NAME, rescan (start what is new or failed in <datadir>/plugins).",
        move |params| {
            let weak = weak.clone();
            async move {
                let m = weak
                    .upgrade()
                    .ok_or_else(RpcError::shutting_down)?;
                plugin_command(&m, params.into_raw()).await
            }
        },
    ))?;
    manager.dispatcher().set_call_hook(Arc::new(RpcCommandHook {
        manager: Arc::downgrade(manager),
        seq: AtomicU64::new(1),
    }));
    Ok(())
}

/// `{subcommand, plugin, options}` from positional or named params; named
/// `k=v` extras (CLN's `-k` style) are options too.
/// A parsed `plugin` call: subcommand, target (path or name), options.
type Parsed = (String, Option<String>, Map<String, Value>);

fn parse(raw: Value) -> Result<Parsed, RpcError> {
    let mut opts = Map::new();
    let add_opt = |opts: &mut Map<String, Value>, s: &str| -> Result<(), RpcError> {
        match s.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                opts.insert(k.to_string(), Value::String(v.to_string()));
                Ok(())
            }
            _ => Err(RpcError::invalid_param(
                "options",
                format!("'{s}' is not keyword=value"),
            )),
        }
    };
    let as_string = |v: &Value, what: &str| -> Result<String, RpcError> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| RpcError::invalid_param(what, "must be a string"))
    };
    let (sub, plugin) = match raw {
        Value::Array(items) => {
            let sub = items
                .first()
                .ok_or_else(|| RpcError::invalid_param("subcommand", "missing required parameter"))
                .and_then(|v| as_string(v, "subcommand"))?;
            let plugin = match items.get(1) {
                None | Some(Value::Null) => None,
                Some(v) => Some(as_string(v, "plugin")?),
            };
            for v in items.iter().skip(2) {
                add_opt(&mut opts, &as_string(v, "options")?)?;
            }
            (sub, plugin)
        }
        Value::Object(map) => {
            let mut sub = None;
            let mut plugin = None;
            for (k, v) in map {
                match k.as_str() {
                    "subcommand" => sub = Some(as_string(&v, "subcommand")?),
                    "plugin" | "directory" => plugin = Some(as_string(&v, &k)?),
                    "options" => match v {
                        Value::Array(a) => {
                            for o in &a {
                                add_opt(&mut opts, &as_string(o, "options")?)?;
                            }
                        }
                        Value::Object(o) => opts.extend(o),
                        _ => {
                            return Err(RpcError::invalid_param(
                                "options",
                                "must be an array of keyword=value strings",
                            ));
                        }
                    },
                    _ => {
                        opts.insert(k, v);
                    }
                }
            }
            let sub = sub.ok_or_else(|| {
                RpcError::invalid_param("subcommand", "missing required parameter")
            })?;
            (sub, plugin)
        }
        _ => {
            return Err(RpcError::invalid_param(
                "subcommand",
                "missing required parameter",
            ));
        }
    };
    Ok((sub, plugin, opts))
}

fn listing(m: &PluginManager, command: &str) -> Value {
    let plugins: Vec<Value> = m
        .list()
        .iter()
        .map(|p| {
            let mut entry = json!({
                "name": p.path.display().to_string(),
                "active": p.is_active(),
                "dynamic": p.dynamic(),
            });
            // Lumen: a failed plugin stays listed and says why.
            if let (Status::Failed(reason), Some(obj)) = (p.status(), entry.as_object_mut()) {
                obj.insert("failure".into(), Value::String(reason));
            }
            entry
        })
        .collect();
    json!({ "command": command, "plugins": plugins })
}

async fn plugin_command(m: &Arc<PluginManager>, raw: Value) -> Result<Value, RpcError> {
    let (sub, target, opts) = parse(raw)?;
    match sub.as_str() {
        "list" => Ok(listing(m, "list")),
        "start" => {
            let target = target
                .ok_or_else(|| RpcError::invalid_param("plugin", "start needs a plugin path"))?;
            let mut path = PathBuf::from(&target);
            if path.is_relative() {
                path = m.dir().join(path);
            }
            m.load(&path, opts, false)
                .await
                .map_err(|e| RpcError::new(codes::PLUGIN_ERROR, e))?;
            Ok(listing(m, "start"))
        }
        "stop" => {
            let target = target
                .ok_or_else(|| RpcError::invalid_param("plugin", "stop needs a plugin name"))?;
            let p = m
                .list()
                .into_iter()
                .find(|p| p.name == target || p.path.display().to_string() == target)
                .ok_or_else(|| {
                    RpcError::new(
                        codes::PLUGIN_ERROR,
                        format!("no plugin named {target} is running"),
                    )
                })?;
            let failed = matches!(p.status(), Status::Failed(_));
            if !p.dynamic() && !failed {
                return Err(RpcError::new(
                    codes::PLUGIN_ERROR,
                    format!(
                        "plugin {} is not dynamic: it cannot be stopped at runtime",
                        p.name
                    ),
                ));
            }
            m.stop(&p);
            Ok(json!({ "command": "stop", "result": format!("Successfully stopped {}.", p.name) }))
        }
        "rescan" => {
            for path in m.dir_libraries() {
                // Failed ones are tried again; running ones are left alone.
                if m.running(&path) {
                    continue;
                }
                if let Err(e) = m.load(&path, Map::new(), false).await {
                    tracing::error!(plugin = %path.display(), error = %e, "rescan: plugin failed to start");
                }
            }
            Ok(listing(m, "rescan"))
        }
        other => Err(RpcError::invalid_param(
            "subcommand",
            format!("'{other}' should be list, start, stop or rescan"),
        )),
    }
}

/// The `rpc_command` hook on calls from outside.
struct RpcCommandHook {
    manager: Weak<PluginManager>,
    seq: AtomicU64,
}

impl CallHook for RpcCommandHook {
    fn active(&self) -> bool {
        self.manager
            .upgrade()
            .is_some_and(|m| m.has_hook("rpc_command"))
    }

    fn intercept(&self, method: String, params: Value) -> InterceptFuture {
        let manager = self.manager.clone();
        let id = format!("lumen-rpc:{}", self.seq.fetch_add(1, Ordering::Relaxed));
        Box::pin(async move {
            let Some(m) = manager.upgrade() else {
                return Intercept::Continue;
            };
            let payload = serde_json::to_value(RpcCommandPayload {
                rpc_command: RpcCommandCall {
                    id: Value::String(id),
                    method,
                    params,
                },
            })
            .unwrap_or(Value::Null);
            let Some((plugin, result)) = m.call_hook("rpc_command", &payload).await else {
                return Intercept::Continue;
            };
            interpret(&plugin, &result)
        })
    }
}

/// A non-`continue` `rpc_command` result, read as the SDK's typed
/// [`RpcCommandResult`]; anything malformed continues.
fn interpret(plugin: &str, result: &Value) -> Intercept {
    match RpcCommandResult::deserialize(result) {
        Ok(RpcCommandResult::Replace(req)) => {
            if let Some(method) = req.get("method").and_then(Value::as_str) {
                return Intercept::Replace {
                    method: method.to_string(),
                    params: req.get("params").cloned().unwrap_or(json!({})),
                };
            }
        }
        Ok(RpcCommandResult::ReturnResult(r)) => return Intercept::Return(Ok(r)),
        Ok(RpcCommandResult::ReturnError(e)) => {
            return Intercept::Return(Err(e.into()));
        }
        Ok(RpcCommandResult::Continue) => return Intercept::Continue,
        Err(_) => {}
    }
    tracing::warn!(plugin, %result, "rpc_command hook: malformed result; continuing");
    Intercept::Continue
}
