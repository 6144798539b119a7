//! `lumen-transport-bench`: BOLT 8 transport throughput.
//!
//! ```text
//! lumen-transport-bench [--secs S]
//! ```
//!
//! Each measurement runs for about `S` seconds (default 2) and prints one
//! JSON line:
//! - `handshake_mem`: complete handshakes per second, both sides in one
//!   thread, no I/O (four ECDH and four key generations per handshake).
//! - `handshake_tcp`: connect + both handshakes over loopback TCP, per second
//!   (one connection at a time).
//! - `session_mem`: encrypt + decrypt of one message in memory, for 100-byte
//!   and 65535-byte messages: messages/s and MB/s of plaintext.
//! - `loopback_tcp`: one TCP loopback connection, a writer task sending
//!   (one write + flush per message) and a reader task receiving:
//!   messages/s and MB/s of plaintext, for 100-byte and 65535-byte messages.
//!
//! Exit status 2 on bad usage, 1 on a transport error.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use bitcoin::secp256k1::SecretKey;
use lumen_core::transport::{
    InitiatorHandshake, NodeKey, ResponderHandshake, accept_inbound, connect_outbound,
};
use tokio::net::{TcpListener, TcpStream};

const TIMEOUT: Duration = Duration::from_secs(10);

fn key(b: u8) -> Result<SecretKey, String> {
    SecretKey::from_slice(&[b; 32]).map_err(|e| e.to_string())
}

fn handshake_mem(secs: f64) -> Result<(), String> {
    let (ik, rk) = (key(1)?, key(2)?);
    let rid = rk.node_id();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        let (hs, a1) = InitiatorHandshake::new(ik, rid);
        let (rhs, a2) = ResponderHandshake::new(rk)
            .process_act_one(&a1)
            .map_err(|e| e.to_string())?;
        let (a3, _i) = hs.process_act_two(&a2).map_err(|e| e.to_string())?;
        let _r = rhs.process_act_three(&a3).map_err(|e| e.to_string())?;
        n += 1;
    }
    let el = start.elapsed().as_secs_f64();
    println!(
        "{{\"bench\":\"handshake_mem\",\"handshakes\":{n},\"secs\":{el:.3},\"per_sec\":{:.1}}}",
        n as f64 / el
    );
    Ok(())
}

fn session_mem(secs: f64, size: usize) -> Result<(), String> {
    let (ik, rk) = (key(1)?, key(2)?);
    let (hs, a1) = InitiatorHandshake::new(ik, rk.node_id());
    let (rhs, a2) = ResponderHandshake::new(rk)
        .process_act_one(&a1)
        .map_err(|e| e.to_string())?;
    let (a3, mut tx) = hs.process_act_two(&a2).map_err(|e| e.to_string())?;
    let mut rx = rhs.process_act_three(&a3).map_err(|e| e.to_string())?;
    let msg = vec![0x5a; size];
    let mut wire = Vec::with_capacity(size + 64);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        for _ in 0..64 {
            wire.clear();
            tx.encrypt_into(&msg, &mut wire)
                .map_err(|e| e.to_string())?;
            rx.feed(&wire);
            match rx.next_message().map_err(|e| e.to_string())? {
                Some(m) if m.len() == size => {}
                _ => return Err("message lost".into()),
            }
            n += 1;
        }
    }
    let el = start.elapsed().as_secs_f64();
    println!(
        "{{\"bench\":\"session_mem\",\"size\":{size},\"messages\":{n},\"secs\":{el:.3},\"msgs_per_sec\":{:.1},\"mb_per_sec\":{:.2}}}",
        n as f64 / el,
        (n as f64 * size as f64) / el / 1e6
    );
    Ok(())
}

async fn handshake_tcp(secs: f64) -> Result<(), String> {
    let (ik, rk) = (key(1)?, key(2)?);
    let rid = rk.node_id();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let _ = accept_inbound(tcp, rk, TIMEOUT).await;
            });
        }
    });
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        connect_outbound(tcp, ik, rid, TIMEOUT)
            .await
            .map_err(|e| e.to_string())?;
        n += 1;
    }
    let el = start.elapsed().as_secs_f64();
    server.abort();
    println!(
        "{{\"bench\":\"handshake_tcp\",\"handshakes\":{n},\"secs\":{el:.3},\"per_sec\":{:.1}}}",
        n as f64 / el
    );
    Ok(())
}

async fn loopback_tcp(secs: f64, size: usize) -> Result<(), String> {
    let (ik, rk) = (key(1)?, key(2)?);
    let rid = rk.node_id();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let mut conn = accept_inbound(tcp, rk, TIMEOUT)
            .await
            .map_err(|e| e.to_string())?;
        let mut n = 0u64;
        let mut bytes = 0u64;
        while let Some(m) = conn.recv().await.map_err(|e| e.to_string())? {
            n += 1;
            bytes += m.len() as u64;
        }
        Ok::<_, String>((n, bytes, Instant::now()))
    });
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let conn = connect_outbound(tcp, ik, rid, TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    let (_rx, mut tx) = conn.into_split();
    let msg = vec![0x5a; size];
    let start = Instant::now();
    let mut sent = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        for _ in 0..16 {
            tx.send(&msg).await.map_err(|e| e.to_string())?;
            sent += 1;
        }
    }
    tx.shutdown().await.map_err(|e| e.to_string())?;
    let (n, bytes, end) = server.await.map_err(|e| e.to_string())??;
    if n != sent {
        return Err(format!("sent {sent}, received {n}"));
    }
    let el = end.duration_since(start).as_secs_f64();
    println!(
        "{{\"bench\":\"loopback_tcp\",\"size\":{size},\"messages\":{n},\"secs\":{el:.3},\"msgs_per_sec\":{:.1},\"mb_per_sec\":{:.2}}}",
        n as f64 / el,
        bytes as f64 / el / 1e6
    );
    Ok(())
}

async fn run(secs: f64) -> Result<(), String> {
    handshake_mem(secs)?;
    handshake_tcp(secs).await?;
    for size in [100, 65_535] {
        session_mem(secs, size)?;
    }
    for size in [100, 65_535] {
        loopback_tcp(secs, size).await?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let secs = match args.as_slice() {
        [] => 2.0,
        [flag, s] if flag == "--secs" => match s.parse::<f64>() {
            Ok(v) if v > 0.0 => v,
            _ => {
                eprintln!("--secs wants a positive number");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: lumen-transport-bench [--secs S]");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(secs)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
