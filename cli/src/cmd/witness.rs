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
    let _lock = lock_dir(&a.data)?;
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

/// Takes the witness's data directory for this process alone (an exclusive
/// lock on `DIR/witness.lock`, held while the returned file is open): two
/// witnesses over one state could each cosign a different fork.
fn lock_dir(dir: &std::path::Path) -> CmdResult<std::fs::File> {
    std::fs::create_dir_all(dir).input_ctx(format!("cannot make {}", dir.display()))?;
    let path = dir.join("witness.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .input_ctx(format!("cannot open {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a descriptor we own; the lock ends with the file.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(CmdError::failed(anyhow!(
                "{} is in use: another witness runs on {}",
                path.display(),
                dir.display()
            )));
        }
    }
    Ok(file)
}

/// A witness a log asks for cosignatures: `NAME+KEY@URL` (`meent serve
/// --witness`), where KEY is as in [`parse_key`] and URL the witness's
/// submission prefix (its `add-checkpoint` is `URL/add-checkpoint`).
#[derive(Debug, Clone)]
pub struct WitnessTarget {
    /// The witness's name and key.
    pub key: NamedKey,
    /// Its submission prefix, without a final `/`.
    pub url: String,
}

/// Parses `NAME+KEY@URL`.
pub fn parse_target(s: &str) -> CmdResult<WitnessTarget> {
    let fail = |why: String| CmdError::usage(anyhow!("--witness {s:?}: {why}; give NAME+KEY@URL"));
    let (name, rest) = s.split_once('+').ok_or_else(|| fail("no '+' after the name".into()))?;
    let (key, url) = rest.split_once('@').ok_or_else(|| fail("no '@' before the witness's URL".into()))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(fail(format!("{url:?} is not an http:// or https:// URL")));
    }
    let key =
        parse_key(&format!("{name}+{key}"), ledger::witness::COSIGNATURE_TYPE).map_err(|e| fail(e.to_string()))?;
    Ok(WitnessTarget { key, url: url.trim_end_matches('/').to_owned() })
}

/// Starts one thread per witness that submits every new checkpoint of `log`
/// to it (add-checkpoint, with a consistency proof from the size the witness
/// last cosigned) and adds the cosignatures it returns to `cosigned`. Never
/// on the ingest path: the checkpoint is published before it is submitted.
/// `quorum` only sets what is logged: the checkpoints that reach it, and
/// those that do not within a minute.
pub fn spawn_requesters(
    log: Arc<ledger::log::Log>,
    cosigned: Arc<ledger::witness::Cosigned>,
    targets: Vec<WitnessTarget>,
    quorum: usize,
) -> std::io::Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    cosigned.ask(targets.iter().map(|t| t.key.clone()).collect(), quorum);
    let (l, c) = (log.clone(), cosigned.clone());
    std::thread::Builder::new().name("witness quorum".into()).spawn(move || watch_quorum(&l, &c, quorum))?;
    for t in targets {
        let (log, cosigned) = (log.clone(), cosigned.clone());
        std::thread::Builder::new()
            .name(format!("witness {}", t.key.name))
            .spawn(move || Requester::new(t, quorum).run(&log, &cosigned))?;
    }
    Ok(())
}

/// Warns once for each checkpoint that stays without its quorum of
/// cosignatures for a minute.
fn watch_quorum(log: &ledger::log::Log, cosigned: &ledger::witness::Cosigned, quorum: usize) {
    let mut seen = (String::new(), std::time::Instant::now(), false);
    loop {
        std::thread::sleep(std::time::Duration::from_secs(5));
        let note = log.checkpoint().0;
        let Ok((text, _)) = ledger::checkpoint::split_note(&note) else { return };
        if text != seen.0 {
            seen = (text.to_owned(), std::time::Instant::now(), false);
        }
        let have = cosigned.witnesses_for(text).len();
        if !seen.2 && have < quorum && seen.1.elapsed() > std::time::Duration::from_secs(60) {
            tracing::warn!("checkpoint {} has {have} of its {quorum} witness cosignatures after a minute", log.size());
            seen.2 = true;
        }
    }
}

/// What a log knows of one witness.
struct Requester {
    target: WitnessTarget,
    http: reqwest::blocking::Client,
    quorum: usize,
    /// The size it last cosigned, if known (else the first request says 0
    /// and learns it from the 409).
    known: Option<u64>,
    /// The note text it last cosigned.
    done: String,
    /// Pause after a failure, doubled up to a minute.
    backoff: std::time::Duration,
}

impl Requester {
    fn new(target: WitnessTarget, quorum: usize) -> Requester {
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap_or_else(|_| reqwest::blocking::Client::new());
        Requester { target, http, quorum, known: None, done: String::new(), backoff: FIRST_BACKOFF }
    }

    fn run(mut self, log: &ledger::log::Log, cosigned: &ledger::witness::Cosigned) {
        loop {
            let note = log.checkpoint().0;
            let Ok((text, _)) = ledger::checkpoint::split_note(&note) else { return };
            if text == self.done {
                std::thread::sleep(POLL);
                continue;
            }
            match self.submit(log, &note, text) {
                Ok(Some((size, line))) => {
                    cosigned.add(text, size, &self.target.key.name, &line);
                    self.done = text.to_owned();
                    self.backoff = FIRST_BACKOFF;
                    let have = cosigned.witnesses_for(text).len();
                    if have == self.quorum {
                        tracing::info!("checkpoint {} reached its witness quorum ({have})", log.size());
                    }
                }
                Ok(None) => {} // a 409 taught the size: ask again at once
                Err(e) => {
                    tracing::warn!("witness {}: {e}; retrying in {:?}", self.target.key.name, self.backoff);
                    std::thread::sleep(self.backoff);
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// One add-checkpoint: the checkpoint's size and the verified
    /// cosignature line, or `None` after a 409 (the witness's size is then
    /// known).
    fn submit(&mut self, log: &ledger::log::Log, note: &str, text: &str) -> Result<Option<(u64, String)>, String> {
        let size = ledger::checkpoint::parse_unverified(note).map_err(|e| e.to_string())?.0.size;
        let old = self.known.unwrap_or(0);
        if old > size {
            return Err(format!("it has cosigned size {old}, more than this log's {size}"));
        }
        let proof = log.consistency_proof(old, size).map_err(|e| format!("no consistency proof: {e}"))?;
        let body = ledger::witness::AddCheckpoint { old_size: old, proof, checkpoint: note.to_owned() }.to_body();
        let url = format!("{}/add-checkpoint", self.target.url);
        let resp = self.http.post(&url).body(body).send().map_err(|e| format!("POST {url}: {e}"))?;
        let status = resp.status().as_u16();
        let answer = resp.text().map_err(|e| format!("POST {url}: {e}"))?;
        match status {
            200 => {
                let line = self.cosignature(text, &answer)?;
                self.known = Some(size);
                Ok(Some((size, line)))
            }
            409 => match answer.strip_suffix('\n').and_then(|n| n.parse::<u64>().ok()) {
                Some(k) if Some(k) != self.known => {
                    self.known = Some(k);
                    Ok(None)
                }
                _ => Err(format!("409 Conflict with {:?}", answer.chars().take(40).collect::<String>())),
            },
            _ => Err(format!("{status}: {}", answer.trim_end().chars().take(300).collect::<String>())),
        }
    }

    /// The witness's cosignature line in a 200 answer, verified against its
    /// key over `text`.
    fn cosignature(&self, text: &str, answer: &str) -> Result<String, String> {
        let w = &self.target.key;
        let (_, lines) = ledger::checkpoint::split_note(&format!("{text}\n{answer}"))
            .map_err(|e| format!("its answer is not signature lines: {e}"))?;
        let line = lines
            .iter()
            .find(|l| l.name == w.name && l.key_id == w.key_id())
            .ok_or_else(|| "its answer has no cosignature by its key".to_owned())?;
        ledger::witness::verify_cosignature(text, line, w).map_err(|e| e.to_string())?;
        let mut blob = line.key_id.to_vec();
        blob.extend_from_slice(&line.signature);
        use base64::Engine;
        Ok(format!("\u{2014} {} {}\n", w.name, base64::engine::general_purpose::STANDARD.encode(blob)))
    }
}

/// How often a requester looks for a new checkpoint.
const POLL: std::time::Duration = std::time::Duration::from_millis(50);
/// The first pause after a failure.
const FIRST_BACKOFF: std::time::Duration = std::time::Duration::from_millis(500);
/// The longest pause after failures.
const MAX_BACKOFF: std::time::Duration = std::time::Duration::from_secs(60);

/// Starts a witness for each of `collectives` on 127.0.0.1 in this runtime
/// (`meent serve --demo`): keys in `dir/keys/witness-<id>.pem`, states in
/// `dir/witness-<id>/`, each following `log`. Their targets, for
/// [`spawn_requesters`].
pub async fn start_local(
    dir: &std::path::Path,
    log: &ledger::log::Log,
    collectives: &[&str],
) -> CmdResult<Vec<WitnessTarget>> {
    let followed = NamedKey { name: log.origin().to_owned(), key: *log.operator_key().verifying_key() };
    let mut targets = Vec::new();
    for id in collectives {
        let sk = ledger::crypto::generate_key();
        let key_file = dir.join("keys").join(format!("witness-{id}.pem"));
        ledger::crypto::write_key_file(&key_file, &sk).input_ctx("demo witness key")?;
        let name = format!("witness.meent.demo/{id}");
        let public = NamedKey { name: name.clone(), key: sk.verifying_key() };
        let witness =
            Witness::new(&name, sk, std::slice::from_ref(&followed)).map_err(|e| CmdError::failed(anyhow!("{e}")))?;
        let server = api::witness::WitnessServer::open(&dir.join(format!("witness-{id}")), witness)
            .map_err(|e| CmdError::failed(anyhow!("{e}")))?;
        let listener = listen("127.0.0.1:0").await.input_ctx("cannot listen for a demo witness")?;
        let url = format!("http://{}", listener.local_addr().input_ctx("no local address")?);
        let config = api::ServeConfig::default();
        tokio::spawn(api::witness::serve(listener, Arc::new(server), config, std::future::pending()));
        targets.push(WitnessTarget { key: public, url });
    }
    Ok(targets)
}
