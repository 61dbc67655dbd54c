//! `meent serve [--data DIR] [--listen ADDR] [--demo] [--witness NAME+KEY@URL…
//! [--witness-quorum N]]`, and the connection
//! limits: `--header-timeout-ms`, `--body-timeout-ms`, `--write-timeout-ms`,
//! `--connections-max`, `--rate-limit on|off` (see `api::net`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use ledger::limits::{
    BODY_TIMEOUT_SECONDS, CONNECTIONS_FD_RESERVE, CONNECTIONS_MAX, HEADER_TIMEOUT_SECONDS, LISTEN_BACKLOG,
    WRITE_TIMEOUT_SECONDS,
};
use ledger::log::Log;

use super::demo;
use crate::exit::{CmdResult, InputContext};

/// Arguments of `meent serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The ledger's data directory (made with `meent init`).
    #[arg(long, default_value = "meent-data")]
    data: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Start on a temporary ledger seeded with an Amsterdam demo scene (ignores --data).
    #[arg(long)]
    demo: bool,
    /// Milliseconds a client has to send a request's head (request line and
    /// headers), counted from its connection, or on a kept-alive connection
    /// from the end of the previous response: so also how long an idle
    /// connection is kept. Silent clients and headers sent a byte at a time
    /// are closed after it.
    #[arg(long, value_name = "MS", default_value_t = HEADER_TIMEOUT_SECONDS * 1000, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_ms: u64,
    /// Milliseconds a client has to send a request's whole body after its
    /// head; a body still unfinished is answered 408 and the connection closed.
    #[arg(long, value_name = "MS", default_value_t = BODY_TIMEOUT_SECONDS * 1000, value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_ms: u64,
    /// Milliseconds a response may wait on a client that reads none of it
    /// before the connection is closed.
    #[arg(long, value_name = "MS", default_value_t = WRITE_TIMEOUT_SECONDS * 1000, value_parser = clap::value_parser!(u64).range(1..))]
    write_timeout_ms: u64,
    /// Most connections served at once, lowered to fit the open-file limit
    /// (raised to its hard limit at start); one more is answered 503 and closed.
    #[arg(long, value_name = "N", default_value_t = CONNECTIONS_MAX, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1 << 24))]
    connections_max: usize,
    /// Rate limits per client address: refused requests (4xx answers, 300 at
    /// once then 60 a minute) and member.apply submissions (200 at once then
    /// 120 an hour), answered 429 with Retry-After past them. `off` is for
    /// benchmarks.
    #[arg(long, value_name = "on|off", value_enum, default_value_t = Switch::On)]
    rate_limit: Switch,
    /// A witness to ask for cosignatures of every new checkpoint: NAME+KEY@URL,
    /// KEY its public key in hex or its verifier key's KEYID+BASE64, URL its
    /// add-checkpoint prefix. Repeat for more witnesses (docs/WITNESS.md).
    #[arg(long = "witness", value_name = "NAME+KEY@URL")]
    witnesses: Vec<String>,
    /// How many witnesses should cosign each checkpoint; a checkpoint that
    /// stays below it for a minute is logged (default: all of them).
    #[arg(long, value_name = "N", requires = "witnesses")]
    witness_quorum: Option<usize>,
}

/// A setting that is on or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

impl ServeArgs {
    /// The server's connection settings, the cap fitted to `open_files` (the
    /// soft open-file limit).
    fn config(&self, open_files: u64) -> api::ServeConfig {
        let fits = usize::try_from(open_files).unwrap_or(usize::MAX);
        let fits = fits.saturating_sub(CONNECTIONS_FD_RESERVE).max(fits / 2).max(1);
        api::ServeConfig {
            header_timeout: Duration::from_millis(self.header_timeout_ms),
            body_timeout: Duration::from_millis(self.body_timeout_ms),
            write_timeout: Duration::from_millis(self.write_timeout_ms),
            connections_max: self.connections_max.min(fits),
            rate_limits: (self.rate_limit == Switch::On).then(api::rate_limit::RateLimits::default),
        }
    }
}

/// Raise this process's soft limit on open files to its hard limit; the soft
/// limit in force afterwards. Each connection costs one file descriptor, and
/// the common soft limit (1024) is far below what a server should hold.
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)] // rlim_t differs between platforms
pub fn raise_open_files_limit() -> std::io::Result<u64> {
    #[cfg(unix)]
    {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes into the struct we own.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if r.rlim_cur >= r.rlim_max {
            return Ok(r.rlim_cur as u64);
        }
        // macOS refuses an unlimited soft limit for files: then try OPEN_MAX's 10240.
        for want in [r.rlim_max, r.rlim_max.min(10240)] {
            let new = libc::rlimit { rlim_cur: want, rlim_max: r.rlim_max };
            // SAFETY: setrlimit reads the struct we own.
            if want > r.rlim_cur && unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } == 0 {
                return Ok(want as u64);
            }
        }
        Ok(r.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    Ok(u64::MAX)
}

/// Open the ledger, listen, and serve until Ctrl-C or SIGTERM.
pub fn run(a: ServeArgs) -> CmdResult {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .try_init();
    let open_files = raise_open_files_limit().unwrap_or_else(|e| {
        tracing::warn!("cannot read the open-file limit: {e}");
        1024
    });
    let config = a.config(open_files);
    let mut witnesses = a.witnesses.iter().map(|w| super::witness::parse_target(w)).collect::<CmdResult<Vec<_>>>()?;
    let mut witness_quorum = a.witness_quorum.unwrap_or(witnesses.len());
    if witness_quorum > witnesses.len() {
        return Err(crate::exit::CmdError::usage(anyhow::anyhow!(
            "--witness-quorum {witness_quorum} is more than the {} --witness given",
            witnesses.len()
        )));
    }
    tracing::info!(
        "serving at most {} connections at once (open-file limit {open_files}); rate limits {}",
        config.connections_max,
        if config.rate_limits.is_some() { "on" } else { "off" }
    );
    // The demo's temporary directory lives as long as the server.
    let (demo_dir, log, demo_keys) = if a.demo {
        let tmp =
            tempfile::Builder::new().prefix("meent-demo-").tempdir().input_ctx("cannot make a temporary directory")?;
        let (keys, log) = demo::create(tmp.path())?;
        (Some(tmp), log, Some(keys))
    } else {
        (
            None,
            Log::open(&a.data).map_err(|e| {
                crate::exit::store_error(
                    &a.data,
                    anyhow::Error::from(e).context(format!("cannot open the ledger in {}", a.data.display())),
                )
            })?,
            None,
        )
    };
    let log = Arc::new(log);
    crate::release_freed_memory();
    let rt =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().input_ctx("cannot start the async runtime")?;
    rt.block_on(async move {
        let listener = listen(&a.listen).await.input_ctx(format!("cannot listen on {}", a.listen))?;
        let addr = listener.local_addr().input_ctx("no local address")?;
        let url = format!("http://{addr}");
        let clock = if demo_keys.is_some() { demo::clock() } else { crate::clock::shared() };
        let state = api::AppState::with_clock(log.clone(), clock);
        // The demo's two witnesses, run by two of its collectives.
        let demo_witnesses = match &demo_dir {
            Some(tmp) => super::witness::start_local(tmp.path(), &log, &demo::WITNESSES).await?,
            None => Vec::new(),
        };
        witness_quorum += demo_witnesses.len();
        witnesses.extend(demo_witnesses.iter().cloned());
        super::witness::spawn_requesters(log.clone(), state.cosigned.clone(), witnesses, witness_quorum)
            .input_ctx("cannot start the witness requests")?;
        let server = tokio::spawn(api::serve_with(listener, state.clone(), config, shutdown_signal()));
        if let Some(keys) = demo_keys {
            let (u, k) = (url.clone(), keys.dir.clone());
            tokio::task::spawn_blocking(move || {
                demo::seed(&u, &demo::DemoKeys { dir: k }).and_then(|_| demo::check(&u))
            })
            .await
            .input_ctx("demo seeding stopped")??;
            wait_for_cosignatures(&state, demo_witnesses.len()).await;
            print_demo_tour(&url, &keys.dir, &demo_witnesses);
        }
        println!("meent serving {} ({} records) on {url}", log.origin(), log.size());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let served = server.await.input_ctx("server task failed")?.input_ctx("server failed");
        // The state as it stops, so that the next start replays nothing.
        if let Err(e) = log.snapshot_now() {
            tracing::warn!("no state snapshot written at shutdown (the next start replays more): {e}");
        }
        served
    })
}

/// Listen on `addr` (the first address it resolves to that binds) with a
/// backlog of [`LISTEN_BACKLOG`].
pub(crate) async fn listen(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for sa in tokio::net::lookup_host(addr).await? {
        let socket = if sa.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        match socket.bind(sa).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to listen on")))
}

/// Waits (at most 10 s) until the latest checkpoint carries `n` cosignatures.
async fn wait_for_cosignatures(state: &api::AppState, n: usize) {
    for _ in 0..200 {
        let note = state.log.checkpoint().0;
        let have = ledger::checkpoint::split_note(&note).map(|(t, _)| state.cosigned.witnesses_for(t).len());
        if have.unwrap_or(0) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn print_demo_tour(url: &str, keys: &std::path::Path, witnesses: &[super::witness::WitnessTarget]) {
    let k = keys.display();
    println!("meent demo: a temporary Amsterdam ledger, seeded through the API (keys in {k})");
    println!("  open {url}/                               # the public audit page");
    println!("  curl {url}/v1/members                    # the register: collectives and the municipality");
    println!("  curl {url}/v1/funds/warmtefonds-noord    # balances, charter, the municipality's matching pledge");
    println!("  curl {url}/v1/funds/warmtefonds-noord/flows");
    println!("  curl '{url}/v1/proposals?fund=warmtefonds-noord'   # a passed allocation and an open vote");
    println!("  curl '{url}/v1/rounds?status=closed'     # a round opened by a vote, closed by equal shares");
    println!("  curl {url}/v1/checkpoint                 # the signed checkpoint");
    println!("  curl '{url}/v1/entries?from=0&limit=5'   # the log itself");
    println!(
        "  meent proposal list --open --server {url}      # the open vote, with its id (8 characters of it will do)"
    );
    println!("  meent vote --key {k}/gemeente-amsterdam.pem --as gemeente-amsterdam --proposal ID --choice yes --server {url}");
    println!("  meent payouts pending --server {url}           # payout requests and who may still approve them");
    println!("  meent round list --server {url}                # then: meent round show ID --server {url}");
    println!("  meent member admit --key {k}/kamer-van-commons.pem --as kamer-van-commons --member wijkbudget-centrum --server {url}");
    println!("  meent verify --server {url}                    # audit every signature, rule and the Merkle root");
    if !witnesses.is_empty() {
        let flags: Vec<String> = witnesses.iter().map(|w| format!("--witness {}", w.key.witness_vkey())).collect();
        println!("  # two collectives run witnesses that cosign each checkpoint (docs/WITNESS.md):");
        println!("  meent verify --server {url} {} --quorum {}", flags.join(" "), witnesses.len());
    }
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
