//! Hook chains: the plugins registered for a hook, in load order adjusted by
//! their `before`/`after` lists; the first result other than `continue`
//! wins; a plugin that fails or times out counts as `continue` (logged).

use std::sync::Arc;
use std::time::Duration;

use lumen_sdk::hooks::is_continue;
use serde_json::Value;

use super::instance::Plugin;

/// Order `plugins` (in load order) for `hook`: a plugin runs before those it
/// names in `before` and after those in `after`; otherwise load order. A
/// cycle is broken by falling back to load order for the rest (logged).
pub fn order(hook: &str, plugins: &[Arc<Plugin>]) -> Vec<Arc<Plugin>> {
    let members: Vec<&Arc<Plugin>> = plugins.iter().filter(|p| p.has_hook(hook)).collect();
    let n = members.len();
    // edges[i] holds j when i must run before j.
    let mut must_precede = vec![Vec::new(); n];
    let idx = |name: &str| members.iter().position(|p| p.name == name);
    for (i, p) in members.iter().enumerate() {
        let Some(decl) = p
            .manifest()
            .and_then(|m| m.hooks.iter().find(|h| h.name == hook))
        else {
            continue;
        };
        for b in &decl.before {
            if let Some(j) = idx(b) {
                must_precede[i].push(j);
            }
        }
        for a in &decl.after {
            if let Some(j) = idx(a) {
                must_precede[j].push(i);
            }
        }
    }
    let mut indegree = vec![0usize; n];
    for succ in &must_precede {
        for &j in succ {
            indegree[j] += 1;
        }
    }
    let mut done = vec![false; n];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        // The earliest-loaded plugin with nothing left before it.
        let next = (0..n).find(|&i| !done[i] && indegree[i] == 0).or_else(|| {
            tracing::warn!(
                hook,
                "before/after constraints form a cycle; using load order"
            );
            (0..n).find(|&i| !done[i])
        });
        let Some(i) = next else { break };
        done[i] = true;
        for &j in &must_precede[i] {
            indegree[j] = indegree[j].saturating_sub(1);
        }
        out.push(Arc::clone(members[i]));
    }
    out
}

/// Run `hook` through the chain: the first non-`continue` result, or `None`
/// when every plugin continued (or none is registered).
pub async fn call_chain(
    hook: &str,
    chain: &[Arc<Plugin>],
    payload: &Value,
    timeout: Duration,
) -> Option<(String, Value)> {
    for p in chain.iter().filter(|p| p.is_active()) {
        match p.request(hook, payload.clone(), timeout).await {
            Ok(result) if is_continue(&result) => {}
            Ok(result) => return Some((p.name.clone(), result)),
            Err(e) => {
                tracing::warn!(plugin = %p.name, hook, error = %e, "hook failed; counts as continue");
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use lumen_sdk::protocol::{HookDecl, Manifest};
    use std::path::Path;

    fn plugin(name: &str, before: &[&str], after: &[&str]) -> Arc<Plugin> {
        let p = Plugin::failed(Path::new(&format!("/x/{name}.so")), "test".into());
        p.set_manifest(Manifest {
            hooks: vec![HookDecl {
                name: "h".into(),
                before: before.iter().map(|s| s.to_string()).collect(),
                after: after.iter().map(|s| s.to_string()).collect(),
            }],
            ..Manifest::default()
        });
        p
    }

    fn names(v: &[Arc<Plugin>]) -> Vec<&str> {
        v.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn load_order_adjusted_by_before_and_after() {
        let a = plugin("a", &[], &[]);
        let b = plugin("b", &["a"], &[]);
        let c = plugin("c", &[], &[]);
        let d = plugin("d", &[], &["c", "nobody"]);
        let loaded = [a, b, c, d];
        assert_eq!(names(&order("h", &loaded)), ["b", "a", "c", "d"]);
        assert!(order("other", &loaded).is_empty());
        // c after d and d after c: a cycle falls back to load order.
        let c2 = plugin("c", &[], &["d"]);
        let d2 = plugin("d", &[], &["c"]);
        assert_eq!(names(&order("h", &[c2, d2])), ["c", "d"]);
    }
}
