//! The `chain.bitcoind_*` keys and `chain.fallback_feerate`: Bitcoin Core's
//! address, credentials, poll interval and the fee to use without an estimate.

use std::path::{Path, PathBuf};

use super::{ChainBackend, Cli, ConfigError, FileChain, Network, flag_or_file};

/// Bitcoin Core's default RPC URL for a network.
fn default_bitcoind_url(network: Network) -> &'static str {
    match network {
        Network::Bitcoin => "http://127.0.0.1:8332",
        Network::Testnet => "http://127.0.0.1:18332",
        Network::Signet => "http://127.0.0.1:38332",
        Network::Regtest => "http://127.0.0.1:18443",
    }
}

/// Where bitcoind writes its cookie by default (Linux data dir layout:
/// mainnet at the top, other networks in a subdirectory).
fn default_bitcoind_cookie(network: Network) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    let dir = PathBuf::from(home).join(".bitcoin");
    Some(match network {
        Network::Bitcoin => dir.join(".cookie"),
        Network::Testnet => dir.join("testnet3").join(".cookie"),
        Network::Signet => dir.join("signet").join(".cookie"),
        Network::Regtest => dir.join("regtest").join(".cookie"),
    })
}

/// The 1-based line where `key = ...` is written in a config file.
fn line_of_key(file: &Path, key: &str) -> Option<usize> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|n| n + 1)
}

/// Resolve the `chain.bitcoind_*` keys and `chain.fallback_feerate`
/// (flag > environment > file > default). They are refused when the backend
/// is not `bitcoind`, so a misplaced setting is never silently ignored.
pub(super) fn resolve(
    cli: &Cli,
    file: &FileChain,
    file_path: &Path,
    network: Network,
    backend: Option<ChainBackend>,
) -> Result<Option<crate::chain::bitcoind::BitcoindConfig>, ConfigError> {
    use crate::chain::bitcoind::rpc::Auth;
    // The error for `key`, naming the flag when one was given, else the file line.
    let err = |key: &str, from_flag: bool, reason: String| {
        if from_flag {
            ConfigError::Option {
                key: format!("--{}", key.replace('_', "-")),
                reason,
            }
        } else {
            ConfigError::Invalid {
                file: file_path.to_path_buf(),
                line: line_of_key(file_path, key),
                key: format!("chain.{key}"),
                reason,
            }
        }
    };
    let given = [
        (
            "bitcoind_url",
            cli.bitcoind_url.is_some(),
            file.bitcoind_url.is_some(),
        ),
        (
            "bitcoind_cookie",
            cli.bitcoind_cookie.is_some(),
            file.bitcoind_cookie.is_some(),
        ),
        (
            "bitcoind_user",
            cli.bitcoind_user.is_some(),
            file.bitcoind_user.is_some(),
        ),
        (
            "bitcoind_password",
            cli.bitcoind_password.is_some(),
            file.bitcoind_password.is_some(),
        ),
        (
            "bitcoind_poll_ms",
            cli.bitcoind_poll_ms.is_some(),
            file.bitcoind_poll_ms.is_some(),
        ),
        (
            "fallback_feerate",
            cli.fallback_feerate.is_some(),
            file.fallback_feerate.is_some(),
        ),
    ];
    if backend != Some(ChainBackend::Bitcoind) {
        return match given.iter().find(|(_, flag, in_file)| *flag || *in_file) {
            Some((key, flag, _)) => Err(err(
                key,
                *flag,
                "only used with the bitcoind chain backend (set chain.backend = \"bitcoind\")"
                    .into(),
            )),
            None => Ok(None),
        };
    }

    let (url, url_flag) = flag_or_file(cli.bitcoind_url.clone(), file.bitcoind_url.clone())
        .unwrap_or_else(|| (default_bitcoind_url(network).to_string(), false));
    crate::chain::bitcoind::rpc::parse_url(&url).map_err(|r| err("bitcoind_url", url_flag, r))?;

    let user = flag_or_file(cli.bitcoind_user.as_ref(), file.bitcoind_user.as_ref());
    let password = flag_or_file(
        cli.bitcoind_password.as_ref(),
        file.bitcoind_password.as_ref(),
    );
    let cookie = flag_or_file(cli.bitcoind_cookie.as_ref(), file.bitcoind_cookie.as_ref());
    let auth = match (user, password, cookie) {
        (Some((u, _)), Some((p, _)), None) => Auth::UserPass {
            user: u.clone(),
            password: p.clone(),
        },
        (None, None, Some((c, _))) => Auth::Cookie(c.clone()),
        (None, None, None) => Auth::Cookie(default_bitcoind_cookie(network).ok_or_else(|| {
            err(
                "bitcoind_cookie",
                false,
                "no home directory for Bitcoin Core's default cookie; set it".into(),
            )
        })?),
        (Some(_), Some(_), Some((_, flag))) => {
            return Err(err(
                "bitcoind_cookie",
                flag,
                "set a cookie or a user and password, not both".into(),
            ));
        }
        (Some((_, flag)), None, _) | (None, Some((_, flag)), _) => {
            let key = if user.is_some() {
                "bitcoind_user"
            } else {
                "bitcoind_password"
            };
            return Err(err(
                key,
                flag,
                "set both bitcoind_user and bitcoind_password, or neither (cookie)".into(),
            ));
        }
    };

    let poll_ms = match flag_or_file(cli.bitcoind_poll_ms, file.bitcoind_poll_ms) {
        Some((ms, flag)) if !(10..=600_000).contains(&ms) => {
            return Err(err(
                "bitcoind_poll_ms",
                flag,
                format!("{ms} is out of range (10..=600000 ms)"),
            ));
        }
        Some((ms, _)) => ms,
        None => 1000,
    };

    let fallback_feerate = match flag_or_file(cli.fallback_feerate, file.fallback_feerate) {
        Some((r, flag)) if !(1..=10_000).contains(&r) => {
            return Err(err(
                "fallback_feerate",
                flag,
                format!("{r} sat/vB is out of range (1..=10000)"),
            ));
        }
        Some((r, _)) => Some(bitcoin::FeeRate::from_sat_per_vb_u32(r)),
        // Regtest has no fee market; elsewhere guessing a fee risks money.
        None if network == Network::Regtest => Some(bitcoin::FeeRate::from_sat_per_vb_u32(2)),
        None => None,
    };

    Ok(Some(crate::chain::bitcoind::BitcoindConfig {
        url,
        auth,
        poll: std::time::Duration::from_millis(poll_ms),
        fallback_feerate,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::{CONFIG_FILE_NAME, Config};
    use super::*;
    use crate::chain::bitcoind::rpc::Auth;

    fn load(text: &str, cli: Cli) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(CONFIG_FILE_NAME), text).expect("write");
        Config::load(&Cli {
            datadir: Some(dir.path().to_path_buf()),
            ..cli
        })
    }

    #[test]
    fn file_keys_resolve() {
        let c = load(
            "[chain]\nbackend = \"bitcoind\"\nbitcoind_url = \"http://127.0.0.1:1234\"\n\
             bitcoind_user = \"u\"\nbitcoind_password = \"p\"\nbitcoind_poll_ms = 100\nfallback_feerate = 7\n",
            Cli::default(),
        )
        .expect("load");
        let b = c.bitcoind.expect("bitcoind settings");
        assert_eq!(b.url, "http://127.0.0.1:1234");
        assert_eq!(
            b.auth,
            Auth::UserPass {
                user: "u".into(),
                password: "p".into()
            }
        );
        assert_eq!(b.poll.as_millis(), 100);
        assert_eq!(b.fallback_feerate.map(|f| f.to_sat_per_vb_ceil()), Some(7));
        assert!(!format!("{b:?}").contains("\"p\""), "password redacted");
    }

    #[test]
    fn defaults_per_network() {
        let c = load("[chain]\nbackend = \"bitcoind\"\n", Cli::default()).expect("load");
        let b = c.bitcoind.expect("settings");
        assert_eq!(b.url, "http://127.0.0.1:18443");
        assert_eq!(b.poll.as_millis(), 1000);
        assert_eq!(b.fallback_feerate.map(|f| f.to_sat_per_vb_ceil()), Some(2));
        match b.auth {
            Auth::Cookie(p) => assert!(p.ends_with(".bitcoin/regtest/.cookie"), "{p:?}"),
            other => panic!("{other:?}"),
        }
        let c = load(
            "network = \"signet\"\n[chain]\nbackend = \"bitcoind\"\n",
            Cli {
                network: Some(Network::Signet),
                ..Cli::default()
            },
        )
        .expect("load");
        let b = c.bitcoind.expect("settings");
        assert_eq!(b.url, "http://127.0.0.1:38332");
        assert_eq!(b.fallback_feerate, None, "no guessing off regtest");
    }

    #[test]
    fn flags_override_file() {
        let c = load(
            "[chain]\nbackend = \"bitcoind\"\nbitcoind_url = \"http://127.0.0.1:1\"\n",
            Cli {
                bitcoind_url: Some("http://127.0.0.1:2".into()),
                bitcoind_cookie: Some("/tmp/x/.cookie".into()),
                ..Cli::default()
            },
        )
        .expect("load");
        let b = c.bitcoind.expect("settings");
        assert_eq!(b.url, "http://127.0.0.1:2");
        assert_eq!(b.auth, Auth::Cookie("/tmp/x/.cookie".into()));
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = load(
            "[chain]\nbackend = \"bitcoind\"\nbitcoind_url = \"https://x:1\"\n",
            Cli::default(),
        )
        .expect_err("https");
        let msg = e.to_string();
        assert!(
            msg.contains("chain.bitcoind_url") && msg.contains("line 3"),
            "{msg}"
        );
        assert!(msg.contains(CONFIG_FILE_NAME), "{msg}");

        let e = load(
            "[chain]\nbackend = \"bitcoind\"\nbitcoind_user = \"u\"\n",
            Cli::default(),
        )
        .expect_err("user without password");
        assert!(e.to_string().contains("chain.bitcoind_user"), "{e}");

        let e = load(
            "[chain]\nbackend = \"bitcoind\"\nbitcoind_poll_ms = 0\n",
            Cli::default(),
        )
        .expect_err("poll");
        assert!(e.to_string().contains("line 3"), "{e}");

        let e = load(
            "[chain]\nbitcoind_url = \"http://127.0.0.1:1\"\n",
            Cli::default(),
        )
        .expect_err("misplaced");
        assert!(
            e.to_string().contains("chain.bitcoind_url")
                && e.to_string().contains("bitcoind chain backend"),
            "{e}"
        );

        let e = load(
            "[chain]\nbackend = \"bitcoind\"\n",
            Cli {
                fallback_feerate: Some(0),
                ..Cli::default()
            },
        )
        .expect_err("flag");
        assert!(e.to_string().contains("--fallback-feerate"), "{e}");

        let e = load(
            "[chain]\nbackend = \"bitcoind\"\nbitcoind_poll_ms = \"x\"\n",
            Cli::default(),
        )
        .expect_err("type");
        assert!(e.to_string().contains("chain.bitcoind_poll_ms"), "{e}");
    }
}
