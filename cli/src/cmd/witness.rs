//! `meent witness serve --data DIR --key FILE --name NAME --log KEY…
//! [--listen ADDR]` runs a C2SP tlog-witness (`api::witness`);
//! `meent witness key --key FILE --name NAME` prints its verifier key
//! (docs/WITNESS.md).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use ledger::witness::{parse_key, NamedKey, Witness, LOG_KEY_TYPE};

use super::serve::{listen, shutdown_signal};
use crate::exit::{CmdError, CmdResult, InputContext};

/// `meent witness …`.
#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Run a witness: cosign the checkpoints of the logs it follows, each only
    /// if it is consistent with the last one it cosigned.
    Serve(WitnessServeArgs),
    /// Print the witness's verifier key, for logs and clients to configure.
    Key(WitnessKeyArgs),
}

/// Arguments of `meent witness serve`.
#[derive(Debug, Args)]
pub struct WitnessServeArgs {
    /// Where the witness keeps its state (made if missing).
    #[arg(long)]
    data: PathBuf,
    /// The witness's key file (`meent keygen --out FILE`).
    #[arg(long)]
    key: PathBuf,
    /// The witness's name, its key name in cosignatures (e.g. witness.example.org/kamer-van-commons).
    #[arg(long)]
    name: String,
    /// A log it follows: ORIGIN+HEXKEY (the operator key `meent init` printed)
    /// or the log's C2SP verifier key ORIGIN+KEYID+BASE64. Repeat for more logs.
    #[arg(long = "log", value_name = "ORIGIN+KEY", required = true)]
    logs: Vec<String>,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: String,
}

/// Arguments of `meent witness key`.
#[derive(Debug, Args)]
pub struct WitnessKeyArgs {
    /// The witness's key file.
    #[arg(long)]
    key: PathBuf,
    /// The witness's name.
    #[arg(long)]
    name: String,
}

/// Run a `meent witness` command.
pub fn run(c: WitnessCommand) -> CmdResult {
    match c {
        WitnessCommand::Serve(a) => serve(a),
        WitnessCommand::Key(a) => {
            let w = public(&a.key, &a.name)?;
            println!("{}", w.witness_vkey());
            Ok(())
        }
    }
}

/// The witness's name and public key, from its key file.
fn public(key: &std::path::Path, name: &str) -> CmdResult<NamedKey> {
    ledger::checkpoint::check_origin(name).map_err(|e| CmdError::usage(anyhow!("--name {name:?}: {e}")))?;
    let sk = ledger::crypto::read_key_file(key).input_ctx(format!("cannot read the witness key {}", key.display()))?;
    Ok(NamedKey { name: name.to_owned(), key: sk.verifying_key() })
}

fn serve(a: WitnessServeArgs) -> CmdResult {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .try_init();
    let logs = a
        .logs
        .iter()
        .map(|l| parse_key(l, LOG_KEY_TYPE).map_err(|e| CmdError::usage(anyhow!("--log: {e}"))))
        .collect::<CmdResult<Vec<_>>>()?;
    let public = public(&a.key, &a.name)?;
    let sk = ledger::crypto::read_key_file(&a.key).input_ctx("the witness key")?;
    let witness = Witness::new(&a.name, sk, &logs).map_err(|e| CmdError::usage(anyhow!("{e}")))?;
    let server = api::witness::WitnessServer::open(&a.data, witness).map_err(|e| CmdError::failed(anyhow!("{e}")))?;
    let state = server.state();
    let server = Arc::new(server);
    let rt =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().input_ctx("cannot start the async runtime")?;
    rt.block_on(async move {
        let listener = listen(&a.listen).await.input_ctx(format!("cannot listen on {}", a.listen))?;
        let addr = listener.local_addr().input_ctx("no local address")?;
        println!("meent witness {} serving on http://{addr}", a.name);
        println!("  verifier key: {}", public.witness_vkey());
        for l in &logs {
            match state.logs.get(&l.name) {
                Some(s) => println!("  follows {} (cosigned up to size {})", l.name, s.size),
                None => println!("  follows {} (nothing cosigned yet)", l.name),
            }
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        api::witness::serve(listener, server, api::ServeConfig::default(), shutdown_signal())
            .await
            .input_ctx("witness server failed")
    })
}
