//! The plugin host against the real `lumen-example-hello` cdylib.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::{cdylib, config, profile_dir};

use lumen_sdk::error_codes;
use lumen_sdk::host::{self, Incoming, LoadError, LoadedPlugin, RequestError};
use lumen_sdk::protocol::OptionType;
use serde_json::{Map, Value, json};

const T: Duration = Duration::from_secs(10);

/// The example plugin's `.so`, built with the cargo that runs this test.
fn hello_so() -> &'static Path {
    static SO: OnceLock<PathBuf> = OnceLock::new();
    SO.get_or_init(|| cdylib("lumen-example-hello", "lumen_example_hello"))
}

async fn started(options: Map<String, Value>) -> LoadedPlugin {
    let p = host::load(hello_so()).unwrap();
    p.handshake(&options, config(), T).await.unwrap();
    p
}

#[tokio::test]
async fn getmanifest_shape_and_init_with_option() {
    let p = host::load(hello_so()).unwrap();

    let raw = p
        .request("getmanifest", json!({"allow-deprecated-apis": false}), T)
        .await
        .unwrap();
    assert_eq!(
        raw["options"],
        json!([{"name": "hello-greeting", "type": "string", "default": "hi",
                "description": "What to greet with", "dynamic": false, "multi": false}])
    );
    let methods: Vec<&str> = raw["rpcmethods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["hello", "panic", "sleep", "hello-node", "hello-counts"]
    );
    assert_eq!(raw["rpcmethods"][0]["usage"], "[name]");
    assert_eq!(raw["subscriptions"], json!(["block_added", "connect"]));
    for key in ["hooks", "notifications", "custommessages"] {
        assert_eq!(raw[key], json!([]), "{key}");
    }
    assert_eq!(
        raw["featurebits"],
        json!({"init": "", "node": "", "channel": "", "invoice": ""})
    );
    assert_eq!(raw["nonnumericids"], true);
    assert_eq!(raw["dynamic"], false);

    let mut opts = Map::new();
    opts.insert("hello-greeting".into(), json!("hey"));
    opts.insert("not-declared".into(), json!(1));
    let manifest = p.handshake(&opts, config(), T).await.unwrap();
    assert_eq!(manifest.options[0].kind, OptionType::String);
    assert!(manifest.unknown.is_empty());

    let r = p.request("hello", json!(["bob"]), T).await.unwrap();
    assert_eq!(r, json!({"greeting": "hey bob"}));
    let r = p
        .request("hello", json!({"name": "alice"}), T)
        .await
        .unwrap();
    assert_eq!(r, json!({"greeting": "hey alice"}));
}

#[tokio::test]
async fn default_option_value_is_used() {
    let p = started(Map::new()).await;
    let r = p.request("hello", json!([]), T).await.unwrap();
    assert_eq!(r, json!({"greeting": "hi world"}));
}

#[tokio::test]
async fn panic_becomes_error_and_plugin_keeps_working() {
    let p = started(Map::new()).await;
    let mut incoming = p.take_incoming().unwrap();
    for _ in 0..3 {
        match p.request("panic", json!([]), T).await {
            Err(RequestError::Rpc(e)) => {
                assert_eq!(e.code, error_codes::INTERNAL_ERROR);
                assert!(e.message.contains("asked to panic"), "{}", e.message);
            }
            other => panic!("expected an RPC error, got {other:?}"),
        }
        let r = p.request("hello", json!(["again"]), T).await.unwrap();
        assert_eq!(r, json!({"greeting": "hi again"}));
    }
    let Some(Incoming::Message(log)) = incoming.recv().await else {
        panic!("expected the panic's log notification");
    };
    assert_eq!(log["method"], "log");
    assert_eq!(log["params"]["level"], "broken");
}

#[tokio::test]
async fn unknown_method_is_32601() {
    let p = started(Map::new()).await;
    match p.request("nosuchmethod", json!({}), T).await {
        Err(RequestError::Rpc(e)) => assert_eq!(e.code, error_codes::METHOD_NOT_FOUND),
        other => panic!("expected -32601, got {other:?}"),
    }
}

#[tokio::test]
async fn request_times_out_and_late_answer_is_dropped() {
    let p = started(Map::new()).await;
    let t0 = Instant::now();
    match p
        .request("sleep", json!([300]), Duration::from_millis(50))
        .await
    {
        Err(RequestError::Timeout { method, .. }) => assert_eq!(method, "sleep"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(t0.elapsed() < Duration::from_millis(250));
    // The plugin answers `sleep` late (dropped), then this one.
    let r = p.request("hello", json!(["late"]), T).await.unwrap();
    assert_eq!(r, json!({"greeting": "hi late"}));
}

#[test]
fn non_plugins_are_refused_with_clear_errors() {
    let missing = host::load("/nonexistent/libnothing.so").unwrap_err();
    assert!(matches!(missing, LoadError::NotFound(_)), "{missing}");

    // The test executable itself: not loadable (PIE) or no root module.
    let exe = std::env::current_exe().unwrap();
    let err = host::load(&exe).unwrap_err();
    eprintln!("test exe: {err}");
    assert!(
        matches!(err, LoadError::Open { .. } | LoadError::NotAPlugin { .. }),
        "{err}"
    );

    // A plain text file.
    let dir = std::env::temp_dir().join(format!("lumen-sdk-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let txt = dir.join("libfake.so");
    std::fs::write(&txt, "not an ELF file").unwrap();
    let err = host::load(&txt).unwrap_err();
    eprintln!("text file: {err}");
    assert!(matches!(err, LoadError::Open { .. }), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();

    // A real shared library that is not a plugin.
    let libc = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/aarch64-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists());
    if let Some(libc) = libc {
        let err = host::load(libc).unwrap_err();
        eprintln!("libc: {err}");
        assert!(matches!(err, LoadError::NotAPlugin { .. }), "{err}");
    }
}

#[tokio::test]
async fn two_instances_of_one_library_are_independent() {
    let mut a = Map::new();
    a.insert("hello-greeting".into(), json!("ahoy"));
    let pa = started(a).await;
    let pb = started(Map::new()).await;
    assert_eq!(
        pa.request("hello", json!(["x"]), T).await.unwrap(),
        json!({"greeting": "ahoy x"})
    );
    assert_eq!(
        pb.request("hello", json!(["x"]), T).await.unwrap(),
        json!({"greeting": "hi x"})
    );
}

/// 10k sequential calls, each answered with its own result; the latency
/// is printed (the numbers that count come from `lumen-plugin-bench` in
/// release).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_latency() {
    let p = started(Map::new()).await;
    const N: usize = 10_000;
    for _ in 0..100 {
        p.request("hello", json!(["warm"]), T).await.unwrap();
    }
    let mut lat = Vec::with_capacity(N);
    let t0 = Instant::now();
    for i in 0..N {
        let t = Instant::now();
        let name = format!("n{i}");
        let r = p.request("hello", json!([name]), T).await.unwrap();
        lat.push(t.elapsed());
        // Every answer is this call's own, in volume (ids demultiplexed).
        assert_eq!(r, json!({"greeting": format!("hi {name}")}));
    }
    let total = t0.elapsed();
    lat.sort();
    let pct = |q: f64| lat[((N as f64 * q) as usize).min(N - 1)];
    let profile = profile_dir();
    println!(
        "host->plugin `hello` round trip over {N} calls ({} build): p50 {:?}, p99 {:?}, max {:?}, total {:?}",
        profile.file_name().unwrap().to_string_lossy(),
        pct(0.50),
        pct(0.99),
        lat[N - 1],
        total
    );
}

#[test]
fn incompatible_layout_is_refused_at_load() {
    let Some(so) = lumen_tests::bad_abi_so() else {
        eprintln!("not run through cargo: skipping");
        return;
    };
    let err = host::load(&so).unwrap_err();
    eprintln!("bad-abi: {err}");
    assert!(matches!(err, LoadError::Incompatible { .. }), "{err}");
}
