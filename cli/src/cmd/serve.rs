//! `meent serve [--data DIR] [--listen ADDR] [--demo]`

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use ledger::log::Log;

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
}

/// Open the ledger, listen, and serve until Ctrl-C or SIGTERM.
pub fn run(a: ServeArgs) -> CmdResult {
    let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into())).with_writer(std::io::stderr).try_init();
    let log = Log::open(&a.data).input_ctx(format!("cannot open the ledger in {}", a.data.display()))?;
    let log = Arc::new(log);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().input_ctx("cannot start the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&a.listen).await.input_ctx(format!("cannot listen on {}", a.listen))?;
        let addr = listener.local_addr().input_ctx("no local address")?;
        let state = api::AppState::new(log.clone());
        println!("meent serving {} ({} records) on http://{addr}", log.origin(), log.size());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        api::serve(listener, state, shutdown_signal()).await.input_ctx("server failed")
    })
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
