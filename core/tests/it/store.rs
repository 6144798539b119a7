//! The store's test suite. Every test runs against both backends: each
//! `both!(name)` below makes `store::name::sled` and `store::name::redb`.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lumen_core::store::bench::{HEAD, HEAD_KEY, RECORDS, record_value};
use lumen_core::store::{
    BackendKind, Batch, KeyCodec, MAX_KEY_LEN, MAX_VALUE_LEN, Migration, Record, SCHEMA_VERSION,
    Store, StoreError, Tree,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const BENCH: &str = env!("CARGO_BIN_EXE_lumen-store-bench");

macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[test]
            fn sled() {
                super::$name(lumen_core::store::BackendKind::Sled)
            }
            #[test]
            fn redb() {
                super::$name(lumen_core::store::BackendKind::Redb)
            }
        }
    };
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

// ---------------------------------------------------------------------------
// 1. Random batches against a BTreeMap model, before and after reopening.

/// Two byte-keyed trees whose names are prefixes of each other, and a
/// u64-keyed one.
const T0: Tree<Vec<u8>, Vec<u8>> = Tree::new("t");
const T1: Tree<Vec<u8>, Vec<u8>> = Tree::new("tt");
const T2: Tree<u64, Vec<u8>> = Tree::new("numbers");

/// Keys of the u64 tree are picked from these (numeric order differs from
/// little-endian byte order).
const U64_KEYS: [u64; 6] = [0, 1, 2, 255, 256, u64::MAX];

#[derive(Debug, Clone)]
enum ModelOp {
    Put(usize, Vec<u8>, Vec<u8>),
    Del(usize, Vec<u8>),
}

/// (tree index, encoded key) -> value body.
type Model = BTreeMap<(usize, Vec<u8>), Vec<u8>>;

fn key_strategy() -> impl Strategy<Value = (usize, Vec<u8>)> {
    prop_oneof![
        (0..2usize, prop::collection::vec(0u8..3, 0..3)),
        prop::sample::select(U64_KEYS.to_vec()).prop_map(|k| (2usize, k.encode_key())),
    ]
}

fn value_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        9 => prop::collection::vec(any::<u8>(), 0..40),
        1 => prop::collection::vec(any::<u8>(), MAX_VALUE_LEN - 64..=MAX_VALUE_LEN),
    ]
}

fn op_strategy() -> impl Strategy<Value = ModelOp> {
    prop_oneof![
        3 => (key_strategy(), value_strategy()).prop_map(|((t, k), v)| ModelOp::Put(t, k, v)),
        2 => key_strategy().prop_map(|(t, k)| ModelOp::Del(t, k)),
    ]
}

fn batches_strategy() -> impl Strategy<Value = Vec<Vec<ModelOp>>> {
    prop::collection::vec(prop::collection::vec(op_strategy(), 1..10), 1..6)
}

fn add_to_batch(batch: &mut Batch, op: &ModelOp) {
    match op {
        ModelOp::Put(0, k, v) => batch.put(&T0, k, v),
        ModelOp::Put(1, k, v) => batch.put(&T1, k, v),
        ModelOp::Put(_, k, v) => batch.put(&T2, &u64_key(k), v),
        ModelOp::Del(0, k) => batch.delete(&T0, k),
        ModelOp::Del(1, k) => batch.delete(&T1, k),
        ModelOp::Del(_, k) => batch.delete(&T2, &u64_key(k)),
    }
}

fn u64_key(k: &[u8]) -> u64 {
    u64::decode_key(k).expect("u64 key from the strategy")
}

/// Every key of the key space (so absent keys are checked too).
fn key_space() -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    let mut byte_keys = vec![vec![]];
    for a in 0..3u8 {
        byte_keys.push(vec![a]);
        for b in 0..3u8 {
            byte_keys.push(vec![a, b]);
        }
    }
    for t in 0..2 {
        for k in &byte_keys {
            out.push((t, k.clone()));
        }
    }
    for k in U64_KEYS {
        out.push((2, k.encode_key()));
    }
    out
}

fn check_against_model(store: &Store, model: &Model) -> Result<(), TestCaseError> {
    for (t, k) in key_space() {
        let got = match t {
            0 => store.get(&T0, &k),
            1 => store.get(&T1, &k),
            _ => store.get(&T2, &u64_key(&k)),
        }
        .map_err(|e| TestCaseError::fail(format!("get: {e}")))?;
        prop_assert_eq!(
            got.as_ref(),
            model.get(&(t, k.clone())),
            "tree {} key {:?}",
            t,
            k
        );
    }
    let prefixes: [&[u8]; 5] = [&[], &[0], &[1], &[0, 1], &[2, 2]];
    for t in 0..2 {
        let tree = if t == 0 { T0 } else { T1 };
        for p in prefixes {
            let got = store
                .scan_prefix(&tree, p)
                .map_err(|e| TestCaseError::fail(format!("scan: {e}")))?;
            let want: Vec<(Vec<u8>, Vec<u8>)> = model
                .iter()
                .filter(|((mt, k), _)| *mt == t && k.starts_with(p))
                .map(|((_, k), v)| (k.clone(), v.clone()))
                .collect();
            prop_assert_eq!(got, want, "scan tree {} prefix {:?}", t, p);
        }
    }
    for p in [&[][..], &[0u8; 7][..], &[0xff][..]] {
        let got = store
            .scan_prefix(&T2, p)
            .map_err(|e| TestCaseError::fail(format!("scan: {e}")))?;
        let want: Vec<(u64, Vec<u8>)> = model
            .iter()
            .filter(|((mt, k), _)| *mt == 2 && k.starts_with(p))
            .map(|((_, k), v)| (u64_key(k), v.clone()))
            .collect();
        prop_assert_eq!(got, want, "scan numbers prefix {:?}", p);
    }
    Ok(())
}

fn model_case(kind: BackendKind, batches: &[Vec<ModelOp>]) -> Result<(), TestCaseError> {
    let tmp = tempdir();
    let dir = tmp.path().join("db");
    let mut model = Model::new();
    let store = Store::open(&dir, kind).map_err(|e| TestCaseError::fail(e.to_string()))?;
    for ops in batches {
        let mut batch = Batch::default();
        for op in ops {
            add_to_batch(&mut batch, op);
            match op {
                ModelOp::Put(t, k, v) => {
                    model.insert((*t, k.clone()), v.clone());
                }
                ModelOp::Del(t, k) => {
                    model.remove(&(*t, k.clone()));
                }
            }
        }
        store
            .commit(batch)
            .map_err(|e| TestCaseError::fail(format!("commit: {e}")))?;
    }
    check_against_model(&store, &model)?;
    store
        .close()
        .map_err(|e| TestCaseError::fail(format!("close: {e}")))?;
    let store = Store::open(&dir, kind).map_err(|e| TestCaseError::fail(e.to_string()))?;
    check_against_model(&store, &model)?;
    Ok(())
}

fn model_roundtrip(kind: BackendKind) {
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&batches_strategy(), |batches| model_case(kind, &batches));
    if let Err(e) = result {
        panic!("{kind}: {e}");
    }
}
both!(model_roundtrip);

// ---------------------------------------------------------------------------
// 2. Crash test: SIGKILL a writer process, every acknowledged record must be
// in the store afterwards.

/// A tiny xorshift generator for the kill delays; the seed is printed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Open the writer's store and check it: `RECORDS` holds exactly `0..=last`
/// with their derived values. Returns `last` (`None`: nothing committed).
fn check_writer_store(dir: &Path, kind: BackendKind) -> Result<Option<u64>, String> {
    let store = Store::open(dir, kind).map_err(|e| format!("reopen failed: {e}"))?;
    let last = store
        .get(&HEAD, &HEAD_KEY.to_string())
        .map_err(|e| format!("read head: {e}"))?;
    let records = store
        .scan_prefix(&RECORDS, &[])
        .map_err(|e| format!("scan records: {e}"))?;
    let expected = last.map_or(0, |l| l + 1);
    if records.len() as u64 != expected {
        return Err(format!(
            "head says last = {last:?} but {} records are stored",
            records.len()
        ));
    }
    for (i, (seq, value)) in records.iter().enumerate() {
        if *seq != i as u64 {
            return Err(format!("record #{i} has seq {seq}"));
        }
        if *value != record_value(*seq) {
            return Err(format!("record {seq} has a wrong value"));
        }
    }
    store.close().map_err(|e| format!("close: {e}"))?;
    Ok(last)
}

fn crash_writer(kind: BackendKind) {
    let tmp = tempdir();
    let dir = tmp.path().join("db");
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    eprintln!("crash_writer {kind}: seed {seed}");
    let mut rng = Rng(seed);
    let mut total_acked = 0usize;
    for round in 0..5 {
        let delay = Duration::from_millis(20 + rng.next() % 281);
        let mut child = Command::new(BENCH)
            .args(["writer", "--backend", kind.as_str(), "--path"])
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn writer");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        let err_reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        std::thread::sleep(delay);
        child.kill().expect("SIGKILL writer");
        let status = child.wait().expect("wait writer");
        let out = reader.join().expect("stdout reader");
        let err = err_reader.join().expect("stderr reader");
        assert_eq!(
            status.signal(),
            Some(libc::SIGKILL),
            "round {round}: writer ended by itself ({status}) before the kill: {err}"
        );
        // Only complete lines were acknowledged.
        let complete = out.rsplit_once('\n').map_or("", |(done, _)| done);
        let acked: Vec<u64> = complete
            .lines()
            .map(|l| l.parse().expect("writer prints numbers"))
            .collect();
        let last = check_writer_store(&dir, kind).unwrap_or_else(|e| {
            panic!("{kind} round {round} (seed {seed}): {e}\nwriter stderr: {err}")
        });
        if let Some(max) = acked.iter().max() {
            assert!(
                last.is_some_and(|l| l >= *max),
                "{kind} round {round} (seed {seed}): acked up to {max} but the store's last is {last:?}"
            );
        }
        eprintln!(
            "crash_writer {kind}: round {round} killed after {delay:?}: {} acked, store last = {last:?}",
            acked.len()
        );
        total_acked += acked.len();
    }
    assert!(total_acked > 0, "the writer never acknowledged anything");
}
both!(crash_writer);

// ---------------------------------------------------------------------------
// 3. The commit path fsyncs: count syscalls with strace.

fn strace_unavailable(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("strace is needed for the fsync test under CI: {why}");
    }
    eprintln!("NOTICE: skipping the store fsync test: {why} (set CI to make this a failure)");
}

fn commits_fsync(kind: BackendKind) {
    const N: u64 = 50;
    match Command::new("strace").arg("-V").output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => return strace_unavailable(&format!("strace -V failed: {}", o.status)),
        Err(e) => return strace_unavailable(&format!("strace not runnable: {e}")),
    }
    let tmp = tempdir();
    let dir = tmp.path().join("db");
    let trace = tmp.path().join("strace.txt");
    let out = Command::new("strace")
        .args([
            "-f",
            "-c",
            "-e",
            "trace=fsync,fdatasync,sync_file_range",
            "-o",
        ])
        .arg(&trace)
        .arg(BENCH)
        .args([
            "writer",
            "--backend",
            kind.as_str(),
            "--count",
            &N.to_string(),
            "--path",
        ])
        .arg(&dir)
        .output()
        .expect("run strace");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        if stderr.contains("ptrace") {
            return strace_unavailable(&format!("strace cannot trace here: {stderr}"));
        }
        panic!("strace/writer failed ({}): {stderr}", out.status);
    }
    let acked = String::from_utf8_lossy(&out.stdout).lines().count() as u64;
    assert_eq!(acked, N, "writer output");
    let summary = std::fs::read_to_string(&trace).expect("strace output");
    // Rows: "% time  seconds  usecs/call  calls  [errors]  syscall".
    let mut counts = BTreeMap::new();
    for line in summary.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() >= 5
            && cols[0].parse::<f64>().is_ok()
            && let (Some(name), Ok(calls)) = (cols.last(), cols[3].parse::<u64>())
        {
            counts.insert(name.to_string(), calls);
        }
    }
    let syncs = counts.get("fsync").unwrap_or(&0) + counts.get("fdatasync").unwrap_or(&0);
    eprintln!("commits_fsync {kind}: {N} commits -> {counts:?}");
    assert!(
        syncs >= N,
        "{kind}: {N} commits made only {syncs} fsync/fdatasync calls: {counts:?}\n{summary}"
    );
}
both!(commits_fsync);

// ---------------------------------------------------------------------------
// 4. Bad data, limits, schema versions, migrations.

/// A record type with a fixed 8-byte body, to read raw data as.
const TYPED: Tree<u64, u64> = Tree::new("typed");
/// The same tree seen as raw bytes, to write bad data with.
const TYPED_RAW: Tree<u64, Vec<u8>> = Tree::new("typed");
/// The same tree with raw keys, to write bad keys with.
const TYPED_RAW_KEYS: Tree<Vec<u8>, Vec<u8>> = Tree::new("typed");

/// A record written with a version no reader knows.
struct Future(Vec<u8>);
impl Record for Future {
    const VERSION: u8 = 7;
    fn encode_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode_body(_: u8, body: &[u8]) -> Result<Self, String> {
        Ok(Future(body.to_vec()))
    }
}

fn assert_corrupt<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
    match r {
        Err(StoreError::Corrupt { tree, reason }) => {
            assert_eq!(tree, "typed", "{what}");
            assert!(!reason.is_empty(), "{what}");
        }
        other => panic!("{what}: expected Corrupt, got {other:?}"),
    }
}

fn corrupt_values_are_errors(kind: BackendKind) {
    let tmp = tempdir();
    let store = Store::open(&tmp.path().join("db"), kind).expect("open");
    store.put(&TYPED, &1, &42).expect("put");
    assert_eq!(store.get(&TYPED, &1).expect("get"), Some(42));
    // A body of the wrong length.
    store.put(&TYPED_RAW, &2, &vec![1, 2, 3]).expect("put raw");
    assert_corrupt(store.get(&TYPED, &2), "short body");
    // An unknown version byte.
    let future: Tree<u64, Future> = Tree::new("typed");
    store
        .put(&future, &3, &Future(vec![0; 8]))
        .expect("put future");
    assert_corrupt(store.get(&TYPED, &3), "unknown version");
    assert_corrupt(store.get(&TYPED_RAW, &3), "unknown version as raw");
    // Scans report it too, and a bad key as well.
    assert_corrupt(store.scan_prefix(&TYPED, &[]), "scan with bad values");
    store.delete(&TYPED_RAW, &2).expect("delete");
    store.delete(&TYPED_RAW, &3).expect("delete");
    assert_eq!(store.scan_prefix(&TYPED, &[]).expect("scan").len(), 1);
    store
        .put(&TYPED_RAW_KEYS, &vec![9, 9, 9], &5u64.encode())
        .expect("put bad key");
    assert_corrupt(store.scan_prefix(&TYPED, &[]), "scan with a bad key");
    // The good record is still readable.
    assert_eq!(store.get(&TYPED, &1).expect("get"), Some(42));
}
both!(corrupt_values_are_errors);

trait EncodeExt {
    fn encode(&self) -> Vec<u8>;
}
impl EncodeExt for u64 {
    /// The body only: `Vec<u8>`'s record version is also 1.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_body(&mut out);
        out
    }
}

fn oversized_is_refused(kind: BackendKind) {
    let tmp = tempdir();
    let store = Store::open(&tmp.path().join("db"), kind).expect("open");
    let raw: Tree<Vec<u8>, Vec<u8>> = Tree::new("raw");
    // The limits themselves are fine.
    store
        .put(&raw, &vec![7; MAX_KEY_LEN], &vec![1; MAX_VALUE_LEN])
        .expect("max-size put");
    assert_eq!(
        store.get(&raw, &vec![7; MAX_KEY_LEN]).expect("get"),
        Some(vec![1; MAX_VALUE_LEN])
    );
    // One byte more is refused, and the whole batch with it.
    let mut batch = Batch::default();
    batch.put(&raw, &b"ok".to_vec(), &b"fine".to_vec());
    batch.put(&raw, &b"big".to_vec(), &vec![0; MAX_VALUE_LEN + 1]);
    match store.commit(batch) {
        Err(StoreError::ValueTooLarge { tree, len, max }) => {
            assert_eq!((tree, len, max), ("raw", MAX_VALUE_LEN + 1, MAX_VALUE_LEN));
        }
        other => panic!("expected ValueTooLarge, got {other:?}"),
    }
    assert_eq!(store.get(&raw, &b"ok".to_vec()).expect("get"), None);
    assert!(matches!(
        store.put(&raw, &vec![0; MAX_KEY_LEN + 1], &vec![]),
        Err(StoreError::KeyTooLarge { .. })
    ));
    // The store's own tree is off limits.
    let meta: Tree<String, Vec<u8>> = Tree::new("__meta");
    assert!(matches!(
        store.get(&meta, &"schema_version".to_string()),
        Err(StoreError::InvalidTreeName { .. })
    ));
    assert!(matches!(
        store.put(&meta, &"schema_version".to_string(), &vec![]),
        Err(StoreError::InvalidTreeName { .. })
    ));
}
both!(oversized_is_refused);

fn newer_schema_is_refused(kind: BackendKind) {
    let tmp = tempdir();
    let dir = tmp.path().join("db");
    let newer = SCHEMA_VERSION + 1;
    let store = Store::open_with_schema(&dir, kind, newer, &[]).expect("create newer");
    assert_eq!(store.schema_version(), newer);
    store.close().expect("close");
    match Store::open(&dir, kind) {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (newer, SCHEMA_VERSION));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
    // Refusing did not damage it.
    let store = Store::open_with_schema(&dir, kind, newer, &[]).expect("reopen newer");
    assert_eq!(store.schema_version(), newer);
}
both!(newer_schema_is_refused);

const PEOPLE: Tree<String, Vec<u8>> = Tree::new("people");
const RUNS: Tree<String, u64> = Tree::new("migration_runs");

/// Count a migration's run in `RUNS[name]` (in the migration's own batch).
fn count_run(store: &Store, batch: &mut Batch, name: &str) -> Result<(), StoreError> {
    let n = store.get(&RUNS, &name.to_string())?.unwrap_or(0);
    batch.put(&RUNS, &name.to_string(), &(n + 1));
    Ok(())
}

fn v1_to_v2(store: &Store, batch: &mut Batch) -> Result<(), StoreError> {
    for (k, mut v) in store.scan_prefix(&PEOPLE, &[])? {
        v.extend_from_slice(b"+m1");
        batch.put(&PEOPLE, &k, &v);
    }
    count_run(store, batch, "m1")
}

fn v2_to_v3(store: &Store, batch: &mut Batch) -> Result<(), StoreError> {
    batch.delete(&PEOPLE, &"bob".to_string());
    count_run(store, batch, "m2")
}

fn failing(_: &Store, batch: &mut Batch) -> Result<(), StoreError> {
    batch.put(&PEOPLE, &"mallory".to_string(), &b"half-done".to_vec());
    Err(StoreError::Backend("migration refused".into()))
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        from: 2,
        description: "drop bob",
        run: v2_to_v3,
    },
    Migration {
        from: 1,
        description: "suffix every person",
        run: v1_to_v2,
    },
];

fn migrations_run_once(kind: BackendKind) {
    let tmp = tempdir();
    let dir = tmp.path().join("db");
    let store = Store::open_with_schema(&dir, kind, 1, &[]).expect("create v1");
    store
        .put(&PEOPLE, &"alice".to_string(), &b"a".to_vec())
        .expect("put");
    store
        .put(&PEOPLE, &"bob".to_string(), &b"b".to_vec())
        .expect("put");
    store.close().expect("close");

    // No route from 1 to 3 without the 1 -> 2 migration.
    assert!(matches!(
        Store::open_with_schema(&dir, kind, 3, &MIGRATIONS[..1]),
        Err(StoreError::MissingMigration { from: 1, target: 3 })
    ));
    // A failing migration leaves the database as it was.
    let bad = [Migration {
        from: 1,
        description: "fails",
        run: failing,
    }];
    assert!(matches!(
        Store::open_with_schema(&dir, kind, 2, &bad),
        Err(StoreError::MigrationFailed { from: 1, .. })
    ));
    let store = Store::open_with_schema(&dir, kind, 1, &[]).expect("still v1");
    assert_eq!(
        store.get(&PEOPLE, &"mallory".to_string()).expect("get"),
        None
    );
    store.close().expect("close");

    // 1 -> 2 -> 3, in order although listed out of order.
    let store = Store::open_with_schema(&dir, kind, 3, MIGRATIONS).expect("migrate");
    assert_eq!(store.schema_version(), 3);
    let people = store.scan_prefix(&PEOPLE, &[]).expect("scan");
    assert_eq!(people, vec![("alice".to_string(), b"a+m1".to_vec())]);
    store.close().expect("close");

    // Reopening does not run them again.
    let store = Store::open_with_schema(&dir, kind, 3, MIGRATIONS).expect("reopen");
    assert_eq!(store.get(&RUNS, &"m1".to_string()).expect("get"), Some(1));
    assert_eq!(store.get(&RUNS, &"m2".to_string()).expect("get"), Some(1));
    assert_eq!(
        store.get(&PEOPLE, &"alice".to_string()).expect("get"),
        Some(b"a+m1".to_vec())
    );
}
both!(migrations_run_once);

fn wrong_backend_is_refused(kind: BackendKind) {
    let tmp = tempdir();
    let dir = tmp.path().join("db");
    Store::open(&dir, kind)
        .expect("create")
        .close()
        .expect("close");
    let other = match kind {
        BackendKind::Sled => BackendKind::Redb,
        BackendKind::Redb => BackendKind::Sled,
    };
    match Store::open(&dir, other) {
        Err(StoreError::WrongBackend {
            expected, found, ..
        }) => assert_eq!((expected, found), (other, kind)),
        r => panic!("expected WrongBackend, got {r:?}"),
    }
}
both!(wrong_backend_is_refused);

/// Commits from several threads through one `Arc<Store>`.
fn concurrent_commits(kind: BackendKind) {
    let tmp = tempdir();
    let store = Arc::new(Store::open(&tmp.path().join("db"), kind).expect("open"));
    let start = Instant::now();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for i in 0..20u64 {
                    let n = t * 100 + i;
                    let mut b = Batch::default();
                    b.put(&RECORDS, &n, &record_value(n));
                    b.put(&TYPED, &n, &n);
                    store.commit(b).expect("commit");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer thread");
    }
    let records = store.scan_prefix(&RECORDS, &[]).expect("scan");
    assert_eq!(records.len(), 80);
    for (n, v) in records {
        assert_eq!(v, record_value(n));
        assert_eq!(store.get(&TYPED, &n).expect("get"), Some(n));
    }
    eprintln!(
        "concurrent_commits {kind}: 80 commits in {:?}",
        start.elapsed()
    );
}
both!(concurrent_commits);
