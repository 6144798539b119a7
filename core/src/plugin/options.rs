//! Plugin option values: from the config file (per plugin), from
//! `--plugin-opt NAME=VALUE` flags, and from `plugin start … k=v`, typed as
//! the plugin's manifest declares them. An option the plugin does not
//! declare refuses the load.

use lumen_sdk::protocol::{Manifest, OptionType};
use serde_json::{Map, Value};

/// Type one value as `kind`; strings (from flags) are parsed.
fn typed(plugin: &str, name: &str, kind: OptionType, v: &Value) -> Result<Value, String> {
    let bad = |want: &str| format!("plugin {plugin}: option '{name}' must be {want}, got {v}");
    match kind {
        OptionType::String | OptionType::StringConceal => match v {
            Value::String(_) => Ok(v.clone()),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(bad("a string")),
        },
        OptionType::Int => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| bad("an integer")),
            _ => Err(bad("an integer")),
        },
        OptionType::Bool | OptionType::Flag => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(s) if s == "true" || (s.is_empty() && kind == OptionType::Flag) => {
                Ok(Value::Bool(true))
            }
            Value::String(s) if s == "false" => Ok(Value::Bool(false)),
            _ => Err(bad("true or false")),
        },
    }
}

/// The `init` options of `plugin`: `given` (by name, any source) typed per
/// the manifest, defaults for the rest. An undeclared name is an error.
pub fn resolve(
    plugin: &str,
    manifest: &Manifest,
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (name, v) in given {
        let Some(decl) = manifest.options.iter().find(|o| &o.name == name) else {
            let known: Vec<&str> = manifest.options.iter().map(|o| o.name.as_str()).collect();
            return Err(format!(
                "plugin {plugin}: unknown option '{name}' (it declares: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        };
        out.insert(name.clone(), typed(plugin, name, decl.kind, v)?);
    }
    for decl in &manifest.options {
        if !out.contains_key(&decl.name)
            && let Some(d) = &decl.default
        {
            out.insert(decl.name.clone(), d.clone());
        }
    }
    Ok(out)
}

/// Whether the manifest declares option `name`.
pub fn declares(manifest: &Manifest, name: &str) -> bool {
    manifest.options.iter().any(|o| o.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lumen_sdk::protocol::ManifestOption;
    use serde_json::json;

    fn manifest() -> Manifest {
        let opt = |name: &str, kind, default: Option<Value>| ManifestOption {
            name: name.into(),
            kind,
            default,
            description: String::new(),
            dynamic: false,
            multi: false,
        };
        Manifest {
            options: vec![
                opt("greeting", OptionType::String, Some(json!("hi"))),
                opt("count", OptionType::Int, None),
                opt("loud", OptionType::Flag, None),
            ],
            ..Manifest::default()
        }
    }

    #[test]
    fn typed_with_defaults() {
        let mut given = Map::new();
        given.insert("count".into(), json!("42"));
        given.insert("loud".into(), json!(""));
        let r = resolve("p", &manifest(), &given).unwrap();
        assert_eq!(r["count"], json!(42));
        assert_eq!(r["loud"], json!(true));
        assert_eq!(r["greeting"], json!("hi"));
    }

    #[test]
    fn unknown_and_mistyped_are_refused() {
        let mut given = Map::new();
        given.insert("colour".into(), json!("red"));
        let e = resolve("p", &manifest(), &given).unwrap_err();
        assert!(
            e.contains("unknown option 'colour'") && e.contains("greeting"),
            "{e}"
        );
        let mut given = Map::new();
        given.insert("count".into(), json!("many"));
        let e = resolve("p", &manifest(), &given).unwrap_err();
        assert!(e.contains("'count' must be an integer"), "{e}");
    }
}
