//! A real `lumend` process for the interop tests.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// `lumend` next to this test binary (`cargo test --workspace` builds it for
/// lumen-core's tests), or `LUMEND` if set.
pub fn lumend_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("LUMEND") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.parent()?.join("lumend");
    candidate.exists().then_some(candidate)
}

/// A running daemon, killed on drop.
pub struct Lumend {
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Lumend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Lumend {
    /// Start with a peer listener on a free loopback port.
    pub fn start(bin: &PathBuf) -> Lumend {
        let dir = tempfile::tempdir().expect("tempdir");
        let rpc_port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(bin)
            .arg("--datadir")
            .arg(dir.path())
            .args([
                "--peer-listen",
                "127.0.0.1:0",
                "--rpc-bind",
                &format!("127.0.0.1:{rpc_port}"),
            ])
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn lumend");
        let node = Lumend { dir, child };
        let deadline = Instant::now() + Duration::from_secs(30);
        while node.try_call("getinfo", json!({})).is_none() {
            assert!(Instant::now() < deadline, "lumend not ready");
            std::thread::sleep(Duration::from_millis(10));
        }
        node
    }

    fn try_call(&self, method: &str, params: Value) -> Option<Value> {
        let mut s = UnixStream::connect(self.dir.path().join("lumen-rpc")).ok()?;
        let req = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        s.write_all(req.to_string().as_bytes()).ok()?;
        s.shutdown(std::net::Shutdown::Write).ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        serde_json::from_str(out.trim()).ok()
    }

    /// Call a method; the whole response.
    pub fn call(&self, method: &str, params: Value) -> Value {
        self.try_call(method, params).expect("rpc call")
    }

    /// Call a method and return its result, panicking on an error.
    pub fn ok(&self, method: &str, params: Value) -> Value {
        let v = self.call(method, params.clone());
        v.get("result")
            .cloned()
            .unwrap_or_else(|| panic!("{method} {params}: {v}"))
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("lumend.log")).unwrap_or_default()
    }
}
