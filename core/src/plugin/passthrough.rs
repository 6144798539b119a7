//! A plugin's methods on the [`Dispatcher`]: served on every transport and
//! listed in `help`, params passed on as given, answered by the plugin
//! within the call timeout.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::instance::Plugin;
use crate::rpc::{Dispatcher, Method};

/// Register every method of `plugin`'s manifest. A name that is taken
/// refuses the whole set (those already added are removed again).
pub fn register(
    dispatcher: &Dispatcher,
    plugin: &Arc<Plugin>,
    timeout: Duration,
) -> Result<(), String> {
    let decls = plugin
        .manifest()
        .map(|m| m.rpcmethods.clone())
        .unwrap_or_default();
    for decl in decls {
        let p = Arc::clone(plugin);
        let name = decl.name.clone();
        let method = Method::passthrough(
            &decl.name,
            &decl.usage,
            &format!("{} (plugin {})", decl.description, plugin.name),
            move |params| {
                let p = Arc::clone(&p);
                let name = name.clone();
                async move {
                    let raw = match params.into_raw() {
                        Value::Null => json!({}),
                        other => other,
                    };
                    p.request(&name, raw, timeout).await
                }
            },
        );
        if let Err(e) = dispatcher.register(method) {
            for m in plugin.take_registered() {
                dispatcher.unregister(&m);
            }
            return Err(format!("method '{}': {e}", decl.name));
        }
        plugin.add_registered(&decl.name);
    }
    Ok(())
}
