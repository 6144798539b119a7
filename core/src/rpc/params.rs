//! Parameter handling: positional or named, validated against the method's
//! declared parameters, with errors that name the parameter.

use lumen_sdk::error_codes as codes;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::RpcError;

/// A declared parameter.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// Name (also the key when given by name).
    pub name: &'static str,
    /// Whether the call fails without it.
    pub required: bool,
}

impl ParamSpec {
    /// A required parameter.
    pub const fn req(name: &'static str) -> ParamSpec {
        ParamSpec {
            name,
            required: true,
        }
    }
    /// An optional parameter.
    pub const fn opt(name: &'static str) -> ParamSpec {
        ParamSpec {
            name,
            required: false,
        }
    }
}

/// Validated parameters, by name. `null` values were dropped.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: Map<String, Value>,
    raw: Value,
}

fn names(specs: &[ParamSpec]) -> String {
    if specs.is_empty() {
        "none".to_string()
    } else {
        specs.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
    }
}

/// Parse the raw text of a request's `params` member (`None`: no member).
pub fn parse_params(raw: Option<&str>) -> Result<Option<Value>, RpcError> {
    raw.map(|text| {
        serde_json::from_str(text).map_err(|e| {
            RpcError::new(
                codes::INVALID_PARAMS,
                format!("params are not valid JSON: {e}"),
            )
        })
    })
    .transpose()
}

impl Params {
    /// Normalise the raw `params` member of `method`'s request.
    pub fn from_raw(
        method: &str,
        specs: &[ParamSpec],
        raw: Option<&str>,
    ) -> Result<Params, RpcError> {
        Self::from_value(method, specs, parse_params(raw)?.unwrap_or(Value::Null))
    }

    /// Normalise an already parsed `params` value.
    pub fn from_value(method: &str, specs: &[ParamSpec], value: Value) -> Result<Params, RpcError> {
        let mut values = Map::new();
        match value {
            Value::Null => {}
            Value::Array(items) => {
                if items.len() > specs.len() {
                    return Err(RpcError::new(
                        codes::INVALID_PARAMS,
                        format!(
                            "too many parameters: '{method}' takes at most {} ({}), got {}",
                            specs.len(),
                            names(specs),
                            items.len()
                        ),
                    ));
                }
                for (spec, v) in specs.iter().zip(items) {
                    if !v.is_null() {
                        values.insert(spec.name.to_string(), v);
                    }
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    if !specs.iter().any(|s| s.name == k) {
                        return Err(RpcError {
                            code: codes::INVALID_PARAMS,
                            message: format!(
                                "unknown parameter '{k}': '{method}' takes {}",
                                names(specs)
                            ),
                            data: Some(serde_json::json!({ "param": k })),
                        });
                    }
                    if !v.is_null() {
                        values.insert(k, v);
                    }
                }
            }
            other => {
                return Err(RpcError::new(
                    codes::INVALID_PARAMS,
                    format!(
                        "params must be an array or an object, not {}",
                        json_kind(&other)
                    ),
                ));
            }
        }
        for spec in specs.iter().filter(|s| s.required) {
            if !values.contains_key(spec.name) {
                return Err(RpcError::invalid_param(
                    spec.name,
                    "missing required parameter",
                ));
            }
        }
        Ok(Params {
            values,
            raw: Value::Null,
        })
    }

    /// Params passed on unchecked (a passthrough method).
    pub fn unchecked(raw: Value) -> Params {
        Params {
            values: Map::new(),
            raw,
        }
    }

    /// The raw `params` of a passthrough method (`null` when none).
    pub fn into_raw(self) -> Value {
        self.raw
    }

    /// An optional parameter, deserialised; a bad value names the parameter.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, RpcError> {
        match self.values.get(name) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| RpcError::invalid_param(name, format!("{e}, got {}", short(v)))),
        }
    }

    /// A required parameter (presence was checked at normalisation).
    pub fn require<T: DeserializeOwned>(&self, name: &str) -> Result<T, RpcError> {
        self.get(name)?
            .ok_or_else(|| RpcError::invalid_param(name, "missing required parameter"))
    }

    /// A key path: an array of strings, or one string meaning a one-element path.
    pub fn key_path(&self, name: &str) -> Result<Option<Vec<String>>, RpcError> {
        match self.values.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(RpcError::invalid_param(
                        name,
                        format!("key parts must be strings, got {}", short(other)),
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(RpcError::invalid_param(
                name,
                format!(
                    "expected a string or an array of strings, got {}",
                    short(other)
                ),
            )),
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value for an error message, cut short.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 64 {
        let mut end = 64;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[ParamSpec] = &[
        ParamSpec::req("key"),
        ParamSpec::opt("string"),
        ParamSpec::opt("generation"),
    ];

    #[test]
    fn positional_and_named_agree() {
        let a = Params::from_raw("m", SPECS, Some(r#"["k", "v", 3]"#)).expect("positional");
        let b = Params::from_raw(
            "m",
            SPECS,
            Some(r#"{"key":"k","string":"v","generation":3}"#),
        )
        .expect("named");
        assert_eq!(a.values, b.values);
        let c = Params::from_raw("m", SPECS, Some(r#"["k", null, 3]"#)).expect("null skips");
        assert_eq!(c.get::<String>("string").expect("ok"), None);
    }

    #[test]
    fn errors_name_the_parameter() {
        let e =
            Params::from_raw("m", SPECS, Some(r#"{"bogus":1,"key":"k"}"#)).expect_err("unknown");
        assert!(e.message.contains("'bogus'"), "{e}");
        let e = Params::from_raw("m", SPECS, Some("[]")).expect_err("missing");
        assert!(e.message.contains("'key'"), "{e}");
        let p = Params::from_raw("m", SPECS, Some(r#"{"key":"k","generation":"x"}"#)).expect("ok");
        let e = p.get::<u64>("generation").expect_err("bad type");
        assert!(e.message.contains("'generation'"), "{e}");
        assert_eq!(e.code, codes::INVALID_PARAMS);
        let e = Params::from_raw("m", SPECS, Some(r#"[1,2,3,4]"#)).expect_err("too many");
        assert!(e.message.contains("at most 3"), "{e}");
        let e = Params::from_raw("m", SPECS, Some("5")).expect_err("scalar");
        assert!(e.message.contains("array or an object"), "{e}");
    }
}
