//! `meent serve [--data DIR] [--listen ADDR] [--demo]`

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
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
}

/// Open the ledger, listen, and serve until Ctrl-C or SIGTERM.
pub fn run(a: ServeArgs) -> CmdResult {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .try_init();
    // The demo's temporary directory lives as long as the server.
    let (_tmp, log, demo_keys) = if a.demo {
        let tmp =
            tempfile::Builder::new().prefix("meent-demo-").tempdir().input_ctx("cannot make a temporary directory")?;
        let (keys, log) = demo::create(tmp.path())?;
        (Some(tmp), log, Some(keys))
    } else {
        (None, Log::open(&a.data).input_ctx(format!("cannot open the ledger in {}", a.data.display()))?, None)
    };
    let log = Arc::new(log);
    let rt =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().input_ctx("cannot start the async runtime")?;
    rt.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(&a.listen).await.input_ctx(format!("cannot listen on {}", a.listen))?;
        let addr = listener.local_addr().input_ctx("no local address")?;
        let url = format!("http://{addr}");
        let state = api::AppState::new(log.clone());
        let server = tokio::spawn(api::serve(listener, state, shutdown_signal()));
        if let Some(keys) = demo_keys {
            let (u, k) = (url.clone(), keys.dir.clone());
            tokio::task::spawn_blocking(move || {
                demo::seed(&u, &demo::DemoKeys { dir: k }).and_then(|_| demo::check(&u))
            })
            .await
            .input_ctx("demo seeding stopped")??;
            print_demo_tour(&url, &keys.dir);
        }
        println!("meent serving {} ({} records) on {url}", log.origin(), log.size());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        server.await.input_ctx("server task failed")?.input_ctx("server failed")
    })
}

fn print_demo_tour(url: &str, keys: &std::path::Path) {
    let k = keys.display();
    println!("meent demo: a temporary Amsterdam ledger, seeded through the API (keys in {k})");
    println!("  open {url}/                               # the public audit page");
    println!("  curl {url}/v1/members                    # the register: collectives and the municipality");
    println!("  curl {url}/v1/funds/warmtefonds-noord    # balances, charter, the municipality's matching pledge");
    println!("  curl {url}/v1/funds/warmtefonds-noord/flows");
    println!("  curl '{url}/v1/proposals?fund=warmtefonds-noord'   # a passed allocation and an open vote");
    println!("  curl '{url}/v1/rounds?status=open'       # a budgeting round by equal shares, ballots open a week");
    println!("  meent round show <round id> --server {url}");
    println!("  curl {url}/v1/checkpoint                 # the signed checkpoint");
    println!("  curl '{url}/v1/entries?from=0&limit=5'   # the log itself");
    println!("  meent member admit --key {k}/kamer-van-commons.pem --as kamer-van-commons --member wijkbudget-centrum --server {url}");
    println!("  meent vote --key {k}/gemeente-amsterdam.pem --as gemeente-amsterdam --proposal <id from /v1/proposals> --choice yes --server {url}");
    println!("  meent verify --server {url}              # audit every signature, rule and the Merkle root");
}

async fn shutdown_signal() {
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
