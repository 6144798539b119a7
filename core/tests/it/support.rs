//! A real `lumend` process on a temp data dir, and clients for every transport.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Path of a binary of this package.
pub fn bin(name: &str) -> PathBuf {
    match name {
        "lumend" => PathBuf::from(env!("CARGO_BIN_EXE_lumend")),
        "lumen-cli" => PathBuf::from(env!("CARGO_BIN_EXE_lumen-cli")),
        other => panic!("unknown binary {other}"),
    }
}

/// A free loopback port (bound then released; good enough on a test machine).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A running daemon. Killed on drop if still running.
pub struct Node {
    pub dir: PathBuf,
    pub port: u16,
    pub child: Option<Child>,
    /// Time from spawn to the first successful `getinfo`.
    pub ready_after: Duration,
    extra_args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Node {
    /// Start a node on `dir` (created if needed) and wait until it answers.
    pub fn start(dir: &Path) -> Node {
        Self::start_with(dir, &[])
    }

    /// Start with extra flags.
    pub fn start_with(dir: &Path, extra: &[&str]) -> Node {
        Self::start_with_env(dir, extra, &[])
    }

    /// Start with extra flags and environment variables.
    pub fn start_with_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Node {
        let port = free_port();
        let mut node = Node {
            dir: dir.to_path_buf(),
            port,
            child: None,
            ready_after: Duration::ZERO,
            extra_args: extra.iter().map(|s| s.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        node.spawn();
        node
    }

    fn spawn(&mut self) {
        let started = Instant::now();
        let child = Command::new(bin("lumend"))
            .arg("--datadir")
            .arg(&self.dir)
            .arg("--rpc-bind")
            .arg(format!("127.0.0.1:{}", self.port))
            .args(&self.extra_args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn lumend");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("try_wait"))
            {
                panic!(
                    "lumend exited during start-up: {status}; log:\n{}",
                    self.log()
                );
            }
            if self.socket().exists()
                && let Ok(resp) = unix_call(&self.socket(), "getinfo", json!({}))
                && resp.get("result").is_some()
            {
                // The cookie is written before the listeners start.
                self.ready_after = started.elapsed();
                return;
            }
            assert!(
                Instant::now() < deadline,
                "lumend not ready after 30 s; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Start again on the same data dir and port.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "still running");
        self.spawn();
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("lumen-rpc")
    }

    pub fn token(&self) -> String {
        std::fs::read_to_string(self.dir.join("rpc.cookie"))
            .expect("cookie")
            .trim()
            .to_string()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("lumend.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Call over the unix socket; the whole JSON-RPC response.
    pub fn call(&self, method: &str, params: Value) -> Value {
        unix_call(&self.socket(), method, params).expect("unix call")
    }

    /// Call over the unix socket and return `result`, panicking on an error.
    pub fn ok(&self, method: &str, params: Value) -> Value {
        let resp = self.call(method, params.clone());
        match resp.get("result") {
            Some(r) => r.clone(),
            None => panic!("{method} {params} failed: {resp}"),
        }
    }

    /// Send a signal and wait for the exit status.
    pub fn signal_and_wait(&mut self, sig: i32) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        // SAFETY-free: libc::kill on our own child's pid.
        let rc = unsafe_kill(child.id(), sig);
        assert_eq!(rc, 0, "kill failed");
        wait_timeout(&mut child, Duration::from_secs(30))
    }

    /// Wait for the process to exit by itself (e.g. after `stop`).
    pub fn wait_exit(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        wait_timeout(&mut child, Duration::from_secs(30))
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[allow(unsafe_code)]
fn unsafe_kill(pid: u32, sig: i32) -> i32 {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(pid as i32, sig) }
}

pub fn wait_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One request over a unix socket with Core Lightning's framing.
pub fn unix_call(socket: &Path, method: &str, params: Value) -> std::io::Result<Value> {
    let req = json!({ "jsonrpc": "2.0", "id": "it:1", "method": method, "params": params });
    unix_raw(socket, req.to_string().as_bytes()).map(|mut v| v.remove(0))
}

/// Write raw bytes, half-close, and read every `\n\n`-framed response.
pub fn unix_raw(socket: &Path, bytes: &[u8]) -> std::io::Result<Vec<Value>> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.write_all(bytes)?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let mut values = Vec::new();
    for frame in out.split("\n\n").filter(|f| !f.trim().is_empty()) {
        values.push(serde_json::from_str(frame).map_err(std::io::Error::other)?);
    }
    if values.is_empty() {
        return Err(std::io::Error::other("no response"));
    }
    Ok(values)
}

/// Raw HTTP POST with an optional bearer token: (status, body).
pub fn http_post(port: u16, token: Option<&str>, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let status: u16 = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Run `lumen-cli` against a node: (exit code, stdout, stderr).
pub fn cli(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin("lumen-cli"))
        .arg("--datadir")
        .arg(dir)
        .args(args)
        .output()
        .expect("run lumen-cli");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub use lumen_tests::{python_with, shared_dir, skip_or_fail};

/// Poll `cond` every 20 ms until it holds (`true`) or `limit` passes.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The `p` quantile (0..=1) of `samples` (sorted in place; not empty).
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx]
}

/// Median and 99th percentile of `samples` (not empty).
pub fn p50_p99(mut samples: Vec<Duration>) -> (Duration, Duration) {
    (
        percentile(&mut samples, 0.50),
        percentile(&mut samples, 0.99),
    )
}
