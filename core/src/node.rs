//! The daemon: start-up in dependency order, then graceful shutdown.
//!
//! Start: data dir (lock, network) → logging → signer → store → RPC.
//! Shutdown (SIGINT, SIGTERM or the `stop` RPC): refuse new calls, let
//! in-flight calls finish, flush and close the store, answer `stop`, close the
//! RPC servers, exit 0.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

use std::os::unix::fs::DirBuilderExt;

use crate::chain::ChainSource;
use crate::chain::bitcoind::BitcoindChain;
use crate::chain::embedded::source::EmbeddedChain;
use crate::config::{ChainBackend, Config};
use crate::datadir::DataDir;
use crate::datastore::Datastore;
use crate::peer::PeerManager;
use crate::plugin::PluginManager;
use crate::rpc::methods::{NodeIdentity, ShutdownRequest, register_builtins};
use crate::rpc::{self, Dispatcher};
use crate::signer::Signer;
use crate::store::{BackendKind, Store};
use lumen_sdk::protocol::InitConfiguration;

/// How long shutdown waits for in-flight calls before closing anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The store's path in the data dir for a backend.
pub fn store_path(datadir: &std::path::Path, backend: BackendKind) -> PathBuf {
    match backend {
        BackendKind::Sled => datadir.join("store.sled"),
        BackendKind::Redb => datadir.join("store.redb"),
    }
}

fn open_store(datadir: &std::path::Path, backend: BackendKind) -> anyhow::Result<Store> {
    let other = match backend {
        BackendKind::Sled => BackendKind::Redb,
        BackendKind::Redb => BackendKind::Sled,
    };
    if store_path(datadir, other).exists() && !store_path(datadir, backend).exists() {
        anyhow::bail!(
            "data dir {} holds a {other:?} store but store.backend is {backend:?}; \
             a data dir keeps the backend it was created with",
            datadir.display()
        );
    }
    Ok(Store::open(&store_path(datadir, backend), backend)?)
}

/// Run the daemon until it is told to stop.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let started = Instant::now();
    let datadir = DataDir::open(&config.datadir, config.network)?;
    let dir = datadir.path().to_path_buf();
    crate::logging::init(&config.log, &dir)?;
    if let Some(f) = &config.config_file {
        tracing::info!(file = %f.display(), "config loaded");
    }

    let signer = Arc::new(Signer::load_or_create(
        &dir,
        config.network,
        config.restore_from_mnemonic_file.as_deref(),
    )?);
    let node_id = signer.node_id();
    if signer.created {
        tracing::warn!(
            seed = %dir.join(crate::signer::SEED_FILE).display(),
            "created a new seed; back up this file — it controls the node's funds"
        );
    }

    let store = Arc::new(open_store(&dir, config.store_backend)?);
    let datastore = Arc::new(Datastore::new(store.clone()));

    let id_bytes = node_id.serialize();
    let identity = NodeIdentity {
        id: node_id.to_string(),
        alias: config
            .alias
            .clone()
            .unwrap_or_else(|| format!("lumen-{}", hex::encode(&id_bytes[..3]))),
        color: hex::encode(
            config
                .color
                .unwrap_or([id_bytes[0], id_bytes[1], id_bytes[2]]),
        ),
        network: config.network,
        datadir: dir.display().to_string(),
    };

    let dispatcher = Arc::new(Dispatcher::new());
    let mut bitcoind: Option<Arc<dyn ChainSource>> = None;
    let embedded = match config.chain_backend {
        Some(ChainBackend::Embedded) => {
            let chain_dir = dir.join("chain");
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&chain_dir)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_secs();
            let chain = tokio::task::spawn_blocking(move || {
                EmbeddedChain::open(
                    &chain_dir.join("blocks.dat"),
                    u32::try_from(now).unwrap_or(u32::MAX),
                )
            })
            .await??;
            Some(Arc::new(chain))
        }
        Some(ChainBackend::Bitcoind) => {
            let cfg = config.bitcoind.clone().ok_or_else(|| {
                anyhow::anyhow!("chain.backend is bitcoind but it has no settings")
            })?;
            let source = BitcoindChain::start(cfg, config.network.to_bitcoin()).await?;
            bitcoind = Some(Arc::new(source) as Arc<dyn ChainSource>);
            None
        }
        None => {
            tracing::warn!(network = %config.network, "no chain backend: chain features are off");
            None
        }
    };
    let chain: Option<Arc<dyn ChainSource>> =
        bitcoind.or_else(|| embedded.clone().map(|c| c as Arc<dyn ChainSource>));
    // The on-chain wallet, whenever there is a chain to follow.
    let mut wallet_task = None;
    let wallet = match &chain {
        Some(c) => {
            let w = crate::wallet::Wallet::open(
                &signer,
                store.clone(),
                c.clone(),
                config.network.to_bitcoin(),
                signer.created,
                config.wallet_birthday,
            )
            .await?;
            wallet_task = Some(w.spawn_follower(wallet_poll(&config)));
            rpc::wallet::register(&dispatcher, w.clone()).map_err(anyhow::Error::msg)?;
            Some(w)
        }
        None => None,
    };
    let (shutdown_tx, mut shutdown_rx) = mpsc::channel::<ShutdownRequest>(4);
    let peers = PeerManager::new(
        signer.clone(),
        config.network.to_bitcoin(),
        Some(store.clone()),
    );
    register_builtins(
        &dispatcher,
        identity,
        datastore,
        shutdown_tx,
        chain.clone(),
        peers.clone(),
    )
    .map_err(anyhow::Error::msg)?;
    rpc::peers::register(&dispatcher, peers.clone()).map_err(anyhow::Error::msg)?;
    let invoices = Arc::new(crate::invoice::InvoiceRegistry::new(store.clone()));
    rpc::invoice::register(
        &dispatcher,
        rpc::invoice::InvoiceContext {
            registry: invoices.clone(),
            signer: signer.clone(),
            network: config.network,
        },
    )
    .map_err(anyhow::Error::msg)?;
    let (chain_rpc_stop, chain_rpc_stop_rx) = watch::channel(false);
    let mut chain_rpc_task = None;
    if let Some(c) = embedded {
        rpc::dev::register(&dispatcher, c.clone(), wallet.clone()).map_err(anyhow::Error::msg)?;
        if let Some(rpc_cfg) = &config.chain_rpc {
            let creds = match &rpc_cfg.credentials {
                Some((u, p)) => crate::chain::server::Credentials::new(u, p),
                None => {
                    let password = crate::secret::random_hex(32)?;
                    crate::datadir::write_private(
                        &dir.join("chain").join(".cookie"),
                        format!("__cookie__:{password}").as_bytes(),
                    )?;
                    crate::chain::server::Credentials::new("__cookie__", &password)
                }
            };
            let (addr, task) =
                crate::chain::server::serve(rpc_cfg.bind, creds, c, chain_rpc_stop_rx)
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!("cannot serve the chain RPC on {}: {e}", rpc_cfg.bind)
                    })?;
            tracing::info!(%addr, "serving the embedded chain over Bitcoin Core's RPC");
            chain_rpc_task = Some(task);
        }
    }

    // Plugins last: their methods must not clash with any built-in one.
    let (plugins, mut plugin_fatal) = PluginManager::new(
        dispatcher.clone(),
        config.plugins.clone(),
        &dir,
        InitConfiguration {
            lightning_dir: dir.display().to_string(),
            rpc_file: rpc::SOCKET_FILE.to_string(),
            startup: true,
            network: config.network.to_string(),
            node_id: node_id.to_string(),
            feature_set: crate::plugin::features::FeatureSets::ours(peers.our_features())
                .to_feature_set(),
        },
    );
    crate::plugin::notify::spawn_peer_events(plugins.clone(), peers.clone());
    if let Some(c) = chain {
        crate::plugin::notify::spawn_chain_events(plugins.clone(), c);
    }
    plugins.start_all().await?;

    // Peers only once startup plugins have added their `init` bits, so
    // every peer sees the same features.
    peers.add_features(&plugins.feature_sets().init);
    peers.follow_custom_types(plugins.custom_types());
    let reconnector = peers.spawn_reconnector();
    for addr in &config.peer_listen {
        let bound = peers
            .listen(*addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen for peers on {addr}: {e}"))?;
        tracing::info!(%bound, "listening for peers");
    }

    let token = rpc::write_cookie(&dir)?;
    let (http_addr, http_handle) = rpc::http::serve(config.rpc.bind, &token, dispatcher.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for RPC on {}: {e}", config.rpc.bind))?;
    let (unix_stop_tx, unix_stop_rx) = watch::channel(false);
    let unix_task = if config.rpc.unix_socket {
        let path = dir.join(rpc::SOCKET_FILE);
        let listener = rpc::unix::bind(&path)
            .map_err(|e| anyhow::anyhow!("cannot bind {}: {e}", path.display()))?;
        Some(tokio::spawn(rpc::unix::serve(
            listener,
            path,
            dispatcher.clone(),
            unix_stop_rx,
        )))
    } else {
        None
    };

    tracing::info!(
        node_id = %node_id,
        network = %config.network,
        datadir = %dir.display(),
        rpc = %http_addr,
        store = ?config.store_backend,
        startup_ms = started.elapsed().as_millis() as u64,
        "lumend ready"
    );
    // A plain line on stdout for people and scripts.
    println!(
        "node id {node_id} — RPC on http://{http_addr} and {}",
        dir.join(rpc::SOCKET_FILE).display()
    );

    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut fatal = None;
    let stop_reply = tokio::select! {
        reason = plugin_fatal.recv() => {
            tracing::error!(reason = reason.as_deref().unwrap_or("?"), "an important plugin failed: shutting down");
            fatal = reason;
            None
        }
        _ = sigterm.recv() => { tracing::info!("SIGTERM: shutting down"); None }
        _ = sigint.recv() => { tracing::info!("SIGINT: shutting down"); None }
        req = shutdown_rx.recv() => { tracing::info!("stop requested over RPC: shutting down"); req }
    };

    // 1. Refuse new calls; 2. let in-flight ones finish (the `stop` call itself
    // is one of them and waits for us).
    dispatcher.begin_shutdown();
    invoices.close(); // ends pending waitinvoice / waitanyinvoice calls
    let allowed = usize::from(stop_reply.is_some());
    if tokio::time::timeout(DRAIN_TIMEOUT, dispatcher.wait_idle(allowed))
        .await
        .is_err()
    {
        tracing::warn!(
            "in-flight RPC calls did not finish within {DRAIN_TIMEOUT:?}; closing anyway"
        );
    }
    if let Some(t) = wallet_task {
        t.abort();
    }
    // 3. Flush the store (commits are already durable; this closes cleanly).
    let flush = tokio::task::spawn_blocking(move || store.sync()).await;
    match flush {
        Ok(Ok(())) => tracing::info!("store flushed"),
        Ok(Err(e)) => tracing::error!(error = %e, "store flush failed"),
        Err(e) => tracing::error!(error = %e, "store flush task failed"),
    }
    // 4. Answer `stop`, then close the servers (in-flight responses are sent).
    if let Some(reply) = stop_reply {
        let _ = reply.send(());
        dispatcher.wait_idle(0).await;
    }
    plugins.shutdown_all();
    reconnector.abort();
    let _ = chain_rpc_stop.send(true);
    if let Some(t) = chain_rpc_task {
        let _ = t.await;
    }
    let _ = unix_stop_tx.send(true);
    if let Some(t) = unix_task {
        let _ = t.await;
    }
    let _ = http_handle.stop();
    http_handle.stopped().await;
    let _ = std::fs::remove_file(dir.join(rpc::COOKIE_FILE));
    tracing::info!("shutdown complete");
    drop(datadir);
    match fatal {
        Some(reason) => Err(anyhow::anyhow!(reason)),
        None => Ok(()),
    }
}

/// How often the wallet looks at the mempool between chain events: the
/// operator's `bitcoind_poll_ms` with Bitcoin Core (each look is RPC calls
/// to it), half a second on the embedded chain.
fn wallet_poll(config: &Config) -> Duration {
    // `bitcoind` settings exist only with that backend.
    config
        .bitcoind
        .as_ref()
        .map_or(Duration::from_millis(500), |b| b.poll)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Cli;

    fn load(file: &str) -> Config {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(crate::config::CONFIG_FILE_NAME), file).expect("write");
        let cli = Cli {
            datadir: Some(dir.path().to_path_buf()),
            ..Cli::default()
        };
        Config::load(&cli).expect("load")
    }

    #[test]
    fn the_wallet_polls_bitcoind_as_often_as_the_operator_says() {
        let c = load(
            "[chain]\nbackend = \"bitcoind\"\nbitcoind_user = \"u\"\n\
             bitcoind_password = \"p\"\nbitcoind_poll_ms = 7000\n",
        );
        assert_eq!(wallet_poll(&c), Duration::from_millis(7000));
        let c = load("[chain]\nbackend = \"embedded\"\n");
        assert_eq!(wallet_poll(&c), Duration::from_millis(500));
    }
}
