//! Configuration: a TOML file, overridden by `LUMEN_*` environment variables,
//! overridden by command-line flags. `config/lumen.toml` documents every key.
//!
//! Unknown keys and bad values are refused with the file, the key and the
//! reason — a typo in a money-handling daemon's config must never be ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;

use crate::store::BackendKind;

mod bitcoind;

/// File name of the config file inside the data dir.
pub const CONFIG_FILE_NAME: &str = "lumen.toml";

/// The Bitcoin network a node runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Mainnet.
    Bitcoin,
    /// Testnet3.
    Testnet,
    /// Signet.
    Signet,
    /// Regtest (the default: nothing of value at stake).
    Regtest,
}

impl Network {
    /// Lower-case name, as Core Lightning and Bitcoin Core spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Bitcoin => "bitcoin",
            Network::Testnet => "testnet",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
        }
    }

    /// Default RPC port, distinct per network so nodes on several networks
    /// can run side by side.
    pub fn default_rpc_port(self) -> u16 {
        match self {
            Network::Bitcoin => 9835,
            Network::Testnet => 19835,
            Network::Signet => 39835,
            Network::Regtest => 29835,
        }
    }

    /// The `bitcoin` crate's network.
    pub fn to_bitcoin(self) -> bitcoin::Network {
        match self {
            Network::Bitcoin => bitcoin::Network::Bitcoin,
            Network::Testnet => bitcoin::Network::Testnet,
            Network::Signet => bitcoin::Network::Signet,
            Network::Regtest => bitcoin::Network::Regtest,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Network {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bitcoin" | "mainnet" => Ok(Network::Bitcoin),
            "testnet" => Ok(Network::Testnet),
            "signet" => Ok(Network::Signet),
            "regtest" => Ok(Network::Regtest),
            other => Err(format!(
                "unknown network '{other}' (expected regtest, signet, testnet or bitcoin)"
            )),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Human,
    /// One JSON object per line.
    Json,
}

/// Command-line flags of `lumend`. Each also reads a `LUMEN_*` variable.
#[derive(Debug, Clone, Parser, Default)]
#[command(name = "lumend", version, about = "Lumen Lightning node daemon")]
pub struct Cli {
    /// Data directory (default: ~/.lumen/<network>).
    #[arg(long, env = "LUMEN_DATADIR", value_name = "DIR")]
    pub datadir: Option<PathBuf>,
    /// Bitcoin network: regtest, signet, testnet or bitcoin.
    #[arg(long, env = "LUMEN_NETWORK", value_name = "NETWORK")]
    pub network: Option<Network>,
    /// Config file (default: <datadir>/lumen.toml; a missing default file is fine).
    #[arg(long, env = "LUMEN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log filter, e.g. `info` or `lumen_core=debug,info` (RUST_LOG also works).
    #[arg(long, env = "LUMEN_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Log format.
    #[arg(long, env = "LUMEN_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// RPC listen address (loopback only), e.g. 127.0.0.1:29835.
    #[arg(long, env = "LUMEN_RPC_BIND", value_name = "ADDR")]
    pub rpc_bind: Option<SocketAddr>,
    /// Store backend: sled or redb.
    #[arg(long, env = "LUMEN_STORE_BACKEND", value_name = "BACKEND", value_parser = parse_backend)]
    pub store_backend: Option<BackendKind>,
    /// Node alias (at most 32 bytes).
    #[arg(long, env = "LUMEN_ALIAS", value_name = "ALIAS")]
    pub alias: Option<String>,
    /// Node colour, 6 hex digits (RGB).
    #[arg(long, env = "LUMEN_COLOR", value_name = "RRGGBB")]
    pub color: Option<String>,
    /// Serve the unix socket <datadir>/lumen-rpc (true or false).
    #[arg(long, env = "LUMEN_RPC_UNIX_SOCKET", value_name = "BOOL")]
    pub rpc_unix_socket: Option<bool>,
    /// Also write the log to <datadir>/lumend.log (true or false).
    #[arg(long, env = "LUMEN_LOG_FILE", value_name = "BOOL")]
    pub log_file: Option<bool>,
    /// Chain backend: embedded (regtest only) or bitcoind.
    #[arg(long, env = "LUMEN_CHAIN_BACKEND", value_name = "BACKEND")]
    pub chain_backend: Option<ChainBackend>,
    /// Accept peer connections on this address (repeatable; comma-separated in the environment).
    #[arg(
        long = "peer-listen",
        env = "LUMEN_PEER_LISTEN",
        value_name = "ADDR",
        value_delimiter = ','
    )]
    pub peer_listen: Vec<SocketAddr>,
    /// Serve the embedded chain over Bitcoin Core's RPC on this loopback address.
    #[arg(long, env = "LUMEN_CHAIN_RPC_BIND", value_name = "ADDR")]
    pub chain_rpc_bind: Option<SocketAddr>,
    /// On first start, import this BIP39 mnemonic (a file holding the words)
    /// instead of creating a new seed.
    #[arg(long, env = "LUMEN_RESTORE_FROM_MNEMONIC_FILE", value_name = "FILE")]
    pub restore_from_mnemonic_file: Option<PathBuf>,
    /// When the on-chain wallet is new in this data dir (e.g. a restored
    /// seed), scan the chain from this block height instead of genesis.
    #[arg(long, env = "LUMEN_WALLET_BIRTHDAY", value_name = "HEIGHT")]
    pub wallet_birthday: Option<u32>,
    /// Bitcoin Core's RPC URL (chain backend bitcoind; default per network,
    /// regtest http://127.0.0.1:18443).
    #[arg(long, env = "LUMEN_BITCOIND_URL", value_name = "URL")]
    pub bitcoind_url: Option<String>,
    /// Bitcoin Core's cookie file (default: the one bitcoind writes for the network under ~/.bitcoin).
    #[arg(long, env = "LUMEN_BITCOIND_COOKIE", value_name = "FILE")]
    pub bitcoind_cookie: Option<PathBuf>,
    /// Bitcoin Core RPC user (with --bitcoind-password, instead of the cookie).
    #[arg(long, env = "LUMEN_BITCOIND_USER", value_name = "USER")]
    pub bitcoind_user: Option<String>,
    /// Bitcoin Core RPC password (prefer the environment or the file: flags show in `ps`).
    #[arg(
        long,
        env = "LUMEN_BITCOIND_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub bitcoind_password: Option<String>,
    /// How often to poll Bitcoin Core's tip, in milliseconds (default 1000).
    #[arg(long, env = "LUMEN_BITCOIND_POLL_MS", value_name = "MS")]
    pub bitcoind_poll_ms: Option<u64>,
    /// Fee rate (sat/vB) to use when Bitcoin Core has no estimate
    /// (default 2 on regtest, none elsewhere).
    #[arg(long, env = "LUMEN_FALLBACK_FEERATE", value_name = "SAT_PER_VB")]
    pub fallback_feerate: Option<u32>,
    /// Load this plugin library (repeatable; comma-separated in the environment).
    #[arg(
        long = "plugin",
        env = "LUMEN_PLUGINS",
        value_name = "PATH",
        value_delimiter = ','
    )]
    pub plugin: Vec<PathBuf>,
    /// A plugin (path or name) whose failure stops the node (repeatable).
    #[arg(long = "important-plugin", value_name = "PATH")]
    pub important_plugin: Vec<String>,
    /// A plugin option, `NAME=VALUE`, for whichever plugin declares NAME (repeatable).
    #[arg(long = "plugin-opt", value_name = "NAME=VALUE")]
    pub plugin_opt: Vec<String>,
    /// How long a call to a plugin method may take, in milliseconds (default 60000).
    #[arg(long, env = "LUMEN_PLUGIN_CALL_TIMEOUT_MS", value_name = "MS")]
    pub plugin_call_timeout_ms: Option<u64>,
    /// How long one plugin may take to answer a hook, in milliseconds (default 60000).
    #[arg(long, env = "LUMEN_PLUGIN_HOOK_TIMEOUT_MS", value_name = "MS")]
    pub plugin_hook_timeout_ms: Option<u64>,
}

fn parse_backend(s: &str) -> Result<BackendKind, String> {
    match s {
        "sled" => Ok(BackendKind::Sled),
        "redb" => Ok(BackendKind::Redb),
        other => Err(format!(
            "unknown store backend '{other}' (expected sled or redb)"
        )),
    }
}

/// The file's shape. Every key is optional; unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    network: Option<Network>,
    alias: Option<String>,
    color: Option<String>,
    #[serde(default)]
    rpc: FileRpc,
    #[serde(default)]
    log: FileLog,
    #[serde(default)]
    store: FileStore,
    #[serde(default)]
    chain: FileChain,
    #[serde(default)]
    peers: FilePeers,
    #[serde(default)]
    plugins: FilePlugins,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePlugins {
    load: Option<Vec<PathBuf>>,
    important: Option<Vec<String>>,
    call_timeout_ms: Option<u64>,
    hook_timeout_ms: Option<u64>,
    handshake_timeout_ms: Option<u64>,
    options: Option<BTreeMap<String, BTreeMap<String, toml::Value>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePeers {
    listen: Option<Vec<SocketAddr>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRpc {
    bind: Option<SocketAddr>,
    unix_socket: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLog {
    level: Option<String>,
    format: Option<LogFormat>,
    file: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStore {
    backend: Option<BackendKind>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileChain {
    backend: Option<ChainBackend>,
    rpc_bind: Option<SocketAddr>,
    rpc_user: Option<String>,
    rpc_password: Option<String>,
    bitcoind_url: Option<String>,
    bitcoind_cookie: Option<PathBuf>,
    bitcoind_user: Option<String>,
    bitcoind_password: Option<String>,
    bitcoind_poll_ms: Option<u64>,
    fallback_feerate: Option<u32>,
}

/// Serving the embedded chain to other processes (Bitcoin Core's RPC subset).
#[derive(Debug, Clone)]
pub struct ChainRpcConfig {
    /// Listen address (loopback).
    pub bind: SocketAddr,
    /// `user:password`; `None` writes a cookie to `<datadir>/chain/.cookie`.
    pub credentials: Option<(String, String)>,
}

/// Where the node gets its blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ChainBackend {
    /// The in-process regtest chain (regtest only; the default there).
    Embedded,
    /// Bitcoin Core's JSON-RPC.
    Bitcoind,
}

/// RPC settings.
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// HTTP + WebSocket listen address (loopback).
    pub bind: SocketAddr,
    /// Serve the unix socket `<datadir>/lumen-rpc`.
    pub unix_socket: bool,
}

/// Logging settings.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// `tracing` filter directive.
    pub level: String,
    /// Output format.
    pub format: LogFormat,
    /// Also write `<datadir>/lumend.log`.
    pub file: bool,
}

/// Plugin settings (see `config/lumen.toml`, `[plugins]`).
#[derive(Debug, Clone)]
pub struct PluginsConfig {
    /// Libraries to load at start (besides every `*.so` in `<datadir>/plugins`).
    pub load: Vec<PathBuf>,
    /// Plugins (path or name) whose failure stops the node.
    pub important: Vec<String>,
    /// Option values by plugin name, then option name (from the file).
    pub options: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    /// `NAME=VALUE` options from flags, for whichever plugin declares NAME.
    pub flag_options: Vec<(String, String)>,
    /// Timeout of a call to a plugin method.
    pub call_timeout: Duration,
    /// Timeout of one plugin's answer to a hook.
    pub hook_timeout: Duration,
    /// Timeout of each of `getmanifest` and `init`.
    pub handshake_timeout: Duration,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig {
            load: Vec::new(),
            important: Vec::new(),
            options: BTreeMap::new(),
            flag_options: Vec::new(),
            call_timeout: Duration::from_secs(60),
            hook_timeout: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(60),
        }
    }
}

/// The resolved configuration the daemon runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Network.
    pub network: Network,
    /// Data directory (per network).
    pub datadir: PathBuf,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// Alias; `None` derives one from the node id.
    pub alias: Option<String>,
    /// Colour; `None` derives one from the node id.
    pub color: Option<[u8; 3]>,
    /// RPC.
    pub rpc: RpcConfig,
    /// Logging.
    pub log: LogConfig,
    /// Store backend.
    pub store_backend: BackendKind,
    /// Chain backend; `None` runs without one (networks other than regtest
    /// when `chain.backend` is not set).
    pub chain_backend: Option<ChainBackend>,
    /// Serve the embedded chain over Bitcoin Core's RPC, if set.
    pub chain_rpc: Option<ChainRpcConfig>,
    /// How to reach Bitcoin Core; set when the backend is `bitcoind`.
    pub bitcoind: Option<crate::chain::bitcoind::BitcoindConfig>,
    /// Addresses to accept peers on (none: outbound connections only).
    pub peer_listen: Vec<SocketAddr>,
    /// Mnemonic file to import on first start.
    pub restore_from_mnemonic_file: Option<PathBuf>,
    /// First block a new wallet scans (`None`: genesis, or the tip for a
    /// seed created at this start).
    pub wallet_birthday: Option<u32>,
    /// Plugins.
    pub plugins: PluginsConfig,
}

/// A configuration error that names where the problem is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config file {file}: cannot read: {reason}")]
    Read {
        /// File.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// A key in the file is unknown or has a bad value.
    #[error("config file {file}{line}: key `{key}`: {reason}", line = line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Invalid {
        /// File.
        file: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// Dotted key path, e.g. `rpc.bind`.
        key: String,
        /// Why.
        reason: String,
    },
    /// A value given by flag or environment is refused.
    #[error("option `{key}`: {reason}")]
    Option {
        /// Option name.
        key: String,
        /// Why.
        reason: String,
    },
    /// No home directory to put the default data dir in.
    #[error("no home directory: pass --datadir")]
    NoHome,
}

/// The default data dir for a network: `~/.lumen/<network>`.
pub fn default_datadir(network: Network) -> Result<PathBuf, ConfigError> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or(ConfigError::NoHome)?;
    Ok(PathBuf::from(home).join(".lumen").join(network.as_str()))
}

fn parse_file(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    let invalid = |line: Option<usize>, key: String, reason: String| ConfigError::Invalid {
        file: path.to_path_buf(),
        line,
        key,
        reason,
    };
    let line_of = |span: Option<std::ops::Range<usize>>| {
        span.map(|s| {
            text[..s.start.min(text.len())]
                .bytes()
                .filter(|b| *b == b'\n')
                .count()
                + 1
        })
    };
    let de = toml::Deserializer::parse(text).map_err(|e| {
        invalid(
            line_of(e.span()),
            "(syntax)".to_string(),
            e.message().to_string(),
        )
    })?;
    serde_path_to_error::deserialize::<_, FileConfig>(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let reason = inner.message().to_string();
        // For an unknown key the path names its parent; name the key itself.
        let key = match reason
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
        {
            Some(field) if key == "." => field.to_string(),
            Some(field) => format!("{key}.{field}"),
            None => key,
        };
        invalid(line_of(inner.span()), key, reason)
    })
}

fn parse_color(s: &str) -> Result<[u8; 3], String> {
    let bytes = hex::decode(s).map_err(|_| format!("'{s}' is not 6 hex digits (RGB)"))?;
    <[u8; 3]>::try_from(bytes.as_slice()).map_err(|_| format!("'{s}' is not 6 hex digits (RGB)"))
}

fn check_alias(alias: &str) -> Result<(), String> {
    if alias.len() > 32 {
        return Err(format!(
            "alias is {} bytes; at most 32 fit in a node announcement",
            alias.len()
        ));
    }
    Ok(())
}

fn check_rpc_bind(addr: SocketAddr) -> Result<(), String> {
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{addr} is not a loopback address; the RPC controls funds and is served on loopback only"
        ));
    }
    Ok(())
}

impl Config {
    /// Resolve flags (which already include `LUMEN_*` variables) and the file.
    pub fn load(cli: &Cli) -> Result<Config, ConfigError> {
        let flag_network = cli.network;
        let locate_network = flag_network.unwrap_or(Network::Regtest);
        let datadir = match &cli.datadir {
            Some(d) => d.clone(),
            None => default_datadir(locate_network)?,
        };
        let (file_path, explicit) = match &cli.config {
            Some(p) => (p.clone(), true),
            None => (datadir.join(CONFIG_FILE_NAME), false),
        };
        let (file, config_file) = match std::fs::read_to_string(&file_path) {
            Ok(text) => (parse_file(&file_path, &text)?, Some(file_path.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                (FileConfig::default(), None)
            }
            Err(e) => {
                return Err(ConfigError::Read {
                    file: file_path,
                    reason: e.to_string(),
                });
            }
        };

        let network = flag_network.or(file.network).unwrap_or(Network::Regtest);
        if cli.datadir.is_none() && network != locate_network {
            return Err(ConfigError::Invalid {
                file: file_path,
                line: None,
                key: "network".into(),
                reason: format!(
                    "says {network}, but this file is in the default {locate_network} data dir; \
                     pass --network {network} (its data dir is ~/.lumen/{network}) or --datadir"
                ),
            });
        }

        let file_err = |key: &str, reason: String| ConfigError::Invalid {
            file: file_path.clone(),
            line: None,
            key: key.into(),
            reason,
        };
        let alias = match (&cli.alias, file.alias) {
            (Some(a), _) => {
                check_alias(a).map_err(|reason| ConfigError::Option {
                    key: "--alias".into(),
                    reason,
                })?;
                Some(a.clone())
            }
            (None, Some(a)) => {
                check_alias(&a).map_err(|r| file_err("alias", r))?;
                Some(a)
            }
            (None, None) => None,
        };
        let color = match &cli.color {
            Some(c) => Some(parse_color(c).map_err(|reason| ConfigError::Option {
                key: "--color".into(),
                reason,
            })?),
            None => file
                .color
                .as_deref()
                .map(parse_color)
                .transpose()
                .map_err(|r| file_err("color", r))?,
        };

        let rpc_bind = match cli.rpc_bind {
            Some(b) => {
                check_rpc_bind(b).map_err(|reason| ConfigError::Option {
                    key: "--rpc-bind".into(),
                    reason,
                })?;
                b
            }
            None => {
                let b = file.rpc.bind.unwrap_or(SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    network.default_rpc_port(),
                ));
                check_rpc_bind(b).map_err(|r| file_err("rpc.bind", r))?;
                b
            }
        };

        let level = cli
            .log_level
            .clone()
            .or(file.log.level)
            .unwrap_or_else(|| "info".to_string());
        tracing_subscriber::EnvFilter::try_new(&level).map_err(|e| match &cli.log_level {
            Some(_) => ConfigError::Option {
                key: "--log-level".into(),
                reason: e.to_string(),
            },
            None => file_err("log.level", e.to_string()),
        })?;

        let chain_backend = match (cli.chain_backend, file.chain.backend) {
            (Some(b), _) => Some((b, None)),
            (None, Some(b)) => Some((b, Some("chain.backend"))),
            (None, None) if network == Network::Regtest => Some((ChainBackend::Embedded, None)),
            (None, None) => None,
        };
        let chain_backend = match chain_backend {
            Some((ChainBackend::Embedded, from_file)) if network != Network::Regtest => {
                let reason = format!(
                    "the embedded chain is regtest only; {network} needs chain.backend = \"bitcoind\""
                );
                return Err(match from_file {
                    Some(key) => file_err(key, reason),
                    None => ConfigError::Option {
                        key: "--chain-backend".into(),
                        reason,
                    },
                });
            }
            other => other.map(|(b, _)| b),
        };
        let bitcoind = bitcoind::resolve(cli, &file.chain, &file_path, network, chain_backend)?;

        let chain_rpc = match cli.chain_rpc_bind.or(file.chain.rpc_bind) {
            None => None,
            Some(bind) => {
                check_rpc_bind(bind).map_err(|r| match cli.chain_rpc_bind {
                    Some(_) => ConfigError::Option {
                        key: "--chain-rpc-bind".into(),
                        reason: r,
                    },
                    None => file_err("chain.rpc_bind", r),
                })?;
                if chain_backend != Some(ChainBackend::Embedded) {
                    return Err(file_err(
                        "chain.rpc_bind",
                        "only the embedded chain can be served".into(),
                    ));
                }
                let credentials = match (file.chain.rpc_user, file.chain.rpc_password) {
                    (Some(u), Some(p)) => Some((u, p)),
                    (None, None) => None,
                    _ => {
                        return Err(file_err(
                            "chain.rpc_user",
                            "set both rpc_user and rpc_password, or neither (cookie)".into(),
                        ));
                    }
                };
                Some(ChainRpcConfig { bind, credentials })
            }
        };

        let peer_listen = if cli.peer_listen.is_empty() {
            file.peers.listen.unwrap_or_default()
        } else {
            cli.peer_listen.clone()
        };

        let plugins = plugins_config(cli, file.plugins).map_err(|(key, reason)| match key {
            PluginKey::File(k) => file_err(k, reason),
            PluginKey::Flag(k) => ConfigError::Option {
                key: k.into(),
                reason,
            },
        })?;

        Ok(Config {
            bitcoind,
            plugins,
            peer_listen,
            chain_rpc,
            network,
            datadir,
            config_file,
            alias,
            color,
            rpc: RpcConfig {
                bind: rpc_bind,
                unix_socket: cli.rpc_unix_socket.or(file.rpc.unix_socket).unwrap_or(true),
            },
            log: LogConfig {
                level,
                format: cli
                    .log_format
                    .or(file.log.format)
                    .unwrap_or(LogFormat::Human),
                file: cli.log_file.or(file.log.file).unwrap_or(true),
            },
            store_backend: cli
                .store_backend
                .or(file.store.backend)
                .unwrap_or(BackendKind::Sled),
            chain_backend,
            restore_from_mnemonic_file: cli.restore_from_mnemonic_file.clone(),
            wallet_birthday: cli.wallet_birthday,
        })
    }
}

/// Resolve the plugin settings; an error names the file key (`Some`) or the
/// `--plugin-opt` flag (`None`).
/// A setting from its flag (or environment variable) if given, else from
/// the file; with whether it came from the flag, so an error can name the
/// place the user wrote it.
pub(crate) fn flag_or_file<T>(flag: Option<T>, file: Option<T>) -> Option<(T, bool)> {
    flag.map(|v| (v, true)).or(file.map(|v| (v, false)))
}

/// Where a bad plugin setting was written.
#[derive(Debug)]
enum PluginKey {
    /// A flag (or its environment variable).
    Flag(&'static str),
    /// A key of the config file.
    File(&'static str),
}

fn plugins_config(cli: &Cli, file: FilePlugins) -> Result<PluginsConfig, (PluginKey, String)> {
    let defaults = PluginsConfig::default();
    let mut load = file.load.unwrap_or_default();
    load.extend(cli.plugin.iter().cloned());
    let mut important = file.important.unwrap_or_default();
    important.extend(cli.important_plugin.iter().cloned());
    let mut options = BTreeMap::new();
    for (plugin, table) in file.options.unwrap_or_default() {
        let mut map = serde_json::Map::new();
        for (k, v) in table {
            let v = serde_json::to_value(&v).map_err(|e| {
                (
                    PluginKey::File("plugins.options"),
                    format!("{plugin}.{k}: {e}"),
                )
            })?;
            map.insert(k, v);
        }
        options.insert(plugin, map);
    }
    let flag_options = cli
        .plugin_opt
        .iter()
        .map(|o| match o.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err((
                PluginKey::Flag("--plugin-opt"),
                format!("'{o}' is not NAME=VALUE"),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ms = |flag: (&'static str, Option<u64>),
              file: (&'static str, Option<u64>),
              default: Duration| match flag_or_file(flag.1, file.1) {
        None => Ok(default),
        Some((0, from_flag)) => {
            let key = if from_flag {
                PluginKey::Flag(flag.0)
            } else {
                PluginKey::File(file.0)
            };
            Err((key, "must be at least 1 ms".to_string()))
        }
        Some((n, _)) => Ok(Duration::from_millis(n)),
    };
    Ok(PluginsConfig {
        load,
        important,
        options,
        flag_options,
        call_timeout: ms(
            ("--plugin-call-timeout-ms", cli.plugin_call_timeout_ms),
            ("plugins.call_timeout_ms", file.call_timeout_ms),
            defaults.call_timeout,
        )?,
        hook_timeout: ms(
            ("--plugin-hook-timeout-ms", cli.plugin_hook_timeout_ms),
            ("plugins.hook_timeout_ms", file.hook_timeout_ms),
            defaults.hook_timeout,
        )?,
        handshake_timeout: ms(
            ("", None),
            ("plugins.handshake_timeout_ms", file.handshake_timeout_ms),
            defaults.handshake_timeout,
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_with(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(CONFIG_FILE_NAME), text).expect("write");
        let cli = Cli {
            datadir: Some(dir.path().to_path_buf()),
            ..Cli::default()
        };
        Config::load(&cli)
    }

    #[test]
    fn defaults_without_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cli = Cli {
            datadir: Some(dir.path().to_path_buf()),
            ..Cli::default()
        };
        let c = Config::load(&cli).expect("load");
        assert_eq!(c.network, Network::Regtest);
        assert_eq!(c.rpc.bind.port(), 29835);
        assert!(c.rpc.unix_socket);
        assert_eq!(c.store_backend, BackendKind::Sled);
        assert!(c.config_file.is_none());
    }

    #[test]
    fn the_documented_example_parses() {
        let text = include_str!("../../config/lumen.toml");
        let c = load_with(text).expect("config/lumen.toml must load");
        assert_eq!(c.network, Network::Regtest);
    }

    #[test]
    fn unknown_key_is_named() {
        let e = load_with("[rpc]\nbind = \"127.0.0.1:1\"\nbogus = 1\n").expect_err("must fail");
        let msg = e.to_string();
        assert!(msg.contains("rpc.bogus"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn bad_value_is_named() {
        let e = load_with("[store]\nbackend = \"mysql\"\n").expect_err("must fail");
        assert!(e.to_string().contains("store.backend"), "{e}");
        let e = load_with("color = \"zzzzzz\"\n").expect_err("must fail");
        assert!(e.to_string().contains("`color`"), "{e}");
        let e = load_with("[rpc]\nbind = \"0.0.0.0:1\"\n").expect_err("must fail");
        assert!(
            e.to_string().contains("rpc.bind") && e.to_string().contains("loopback"),
            "{e}"
        );
        let e = load_with("[log]\nformat = 3\n").expect_err("must fail");
        assert!(e.to_string().contains("log.format"), "{e}");
    }

    #[test]
    fn flags_override_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(CONFIG_FILE_NAME),
            "[store]\nbackend = \"sled\"\n",
        )
        .expect("write");
        let cli = Cli {
            datadir: Some(dir.path().to_path_buf()),
            store_backend: Some(BackendKind::Redb),
            ..Cli::default()
        };
        assert_eq!(
            Config::load(&cli).expect("load").store_backend,
            BackendKind::Redb
        );
    }

    #[test]
    fn a_bad_plugin_timeout_names_where_it_was_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cli = Cli {
            datadir: Some(dir.path().to_path_buf()),
            plugin_call_timeout_ms: Some(0),
            ..Cli::default()
        };
        match Config::load(&cli) {
            Err(ConfigError::Option { key, .. }) => assert_eq!(key, "--plugin-call-timeout-ms"),
            other => panic!("expected the flag to be named, got {other:?}"),
        }
        match load_with("[plugins]\nhook_timeout_ms = 0\n") {
            Err(ConfigError::Invalid { key, .. }) => assert_eq!(key, "plugins.hook_timeout_ms"),
            other => panic!("expected the file key to be named, got {other:?}"),
        }
    }
}
