//! A C2SP tlog-witness server (`meent witness serve`, docs/WITNESS.md):
//! `POST /add-checkpoint` over a [`ledger::witness::Witness`] and its state
//! file.
//!
//! The state (per log: the size and root of the latest checkpoint cosigned)
//! lives in `<data>/witness-state.json`. An accepted checkpoint's state is
//! written to a temporary file, fsynced, renamed over the state file and the
//! directory fsynced before the cosignature is sent; one lock covers the
//! decision and the write, so two requests cannot roll a log back (the race
//! tlog-witness describes). A state file that cannot be read stops the start
//! with its path and what is wrong with it. A checkpoint signed by a log's
//! key but refused as inconsistent (422) is kept in `<data>/evidence/`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use ledger::witness::{AddCheckpoint, Refusal, Witness, WitnessState, REQUEST_LEN_MAX, SIZE_CONTENT_TYPE};
use tokio::net::TcpListener;

use crate::ServeConfig;

/// The state file's name in the witness's data directory.
pub const STATE_FILE: &str = "witness-state.json";

/// A running witness: its key, the logs it follows, its state and where the
/// state is kept.
pub struct WitnessServer {
    witness: Witness,
    state: Mutex<WitnessState>,
    path: PathBuf,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl WitnessServer {
    /// Opens (or starts) the state in `dir`. Refuses a state file it cannot
    /// read, naming it.
    pub fn open(dir: &Path, witness: Witness) -> Result<WitnessServer, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        let path = dir.join(STATE_FILE);
        let state = match std::fs::read(&path) {
            Ok(bytes) => WitnessState::from_bytes(&bytes)
                .map_err(|e| format!("the witness state {} is corrupt: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => WitnessState::default(),
            Err(e) => return Err(format!("cannot read the witness state {}: {e}", path.display())),
        };
        let clock = Box::new(|| chrono::Utc::now().timestamp().max(1) as u64);
        Ok(WitnessServer { witness, state: Mutex::new(state), path, clock })
    }

    /// The state as it is now.
    pub fn state(&self) -> WitnessState {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Decides on a request body; on acceptance makes the new state durable
    /// and returns the cosignature line.
    pub fn add_checkpoint(&self, body: &str) -> Result<String, Answer> {
        let req = AddCheckpoint::parse(body).map_err(|e| Answer::Refused(Refusal::BadRequest(e.to_string())))?;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let accepted = match self.witness.decide(&state, &req) {
            Ok(a) => a,
            Err(r) => {
                if let Refusal::Inconsistent { .. } = r {
                    self.keep_evidence(&req.checkpoint, &r);
                }
                return Err(Answer::Refused(r));
            }
        };
        let mut next = state.clone();
        next.logs.insert(accepted.checkpoint.origin.clone(), accepted.state());
        if next != *state {
            write_durably(&self.path, &next.to_bytes()).map_err(|e| {
                Answer::Unavailable(format!("cannot write the witness state {}: {e}", self.path.display()))
            })?;
            *state = next;
        }
        Ok(self.witness.cosign(&accepted, (self.clock)()))
    }
}

impl WitnessServer {
    /// Keeps a checkpoint signed by a log's key but inconsistent with what
    /// the witness cosigned (a split view, or a log that rewrote its
    /// history) in `<data>/evidence/`, named by the SHA-256 of the note:
    /// proof of the log's misbehaviour. Best effort: a failure is logged.
    fn keep_evidence(&self, note: &str, why: &Refusal) {
        use sha2::Digest;
        let dir = self.path.with_file_name(EVIDENCE_DIR);
        let file = dir.join(format!("{}.note", hex::encode(sha2::Sha256::digest(note.as_bytes()))));
        tracing::warn!("a checkpoint signed by the log's key was refused ({why}); kept in {}", file.display());
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| write_durably(&file, note.as_bytes())) {
            tracing::error!("cannot keep the refused checkpoint in {}: {e}", file.display());
        }
    }
}

/// The directory, beside the state file, of refused checkpoints that were
/// signed by a log's key (evidence of a split view).
pub const EVIDENCE_DIR: &str = "evidence";

/// Why a request got no cosignature.
#[derive(Debug)]
pub enum Answer {
    /// A tlog-witness refusal (400, 403, 404, 409, 422).
    Refused(Refusal),
    /// The state could not be written (503); nothing changed.
    Unavailable(String),
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let text = "text/plain; charset=utf-8";
        match self {
            Answer::Refused(Refusal::Conflict { known, .. }) => {
                (StatusCode::CONFLICT, [(header::CONTENT_TYPE, SIZE_CONTENT_TYPE)], format!("{known}\n"))
                    .into_response()
            }
            Answer::Refused(r) => {
                let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST);
                (status, [(header::CONTENT_TYPE, text)], format!("{r}\n")).into_response()
            }
            Answer::Unavailable(why) => {
                tracing::error!("{why}");
                (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, text)], format!("{why}\n")).into_response()
            }
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, fsynced, renamed over `path`, then the directory fsynced.
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// `POST /add-checkpoint`.
async fn add_checkpoint(State(w): State<Arc<WitnessServer>>, body: String) -> Response {
    let answer = tokio::task::spawn_blocking(move || w.add_checkpoint(&body)).await;
    match answer {
        Ok(Ok(line)) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], line).into_response(),
        Ok(Err(a)) => a.into_response(),
        Err(e) => Answer::Unavailable(format!("the witness task failed: {e}")).into_response(),
    }
}

/// The witness's routes: `POST /add-checkpoint`.
pub fn router(w: Arc<WitnessServer>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(REQUEST_LEN_MAX))
        .with_state(w)
}

/// Serves the witness on `listener` with `config` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    w: Arc<WitnessServer>,
    config: ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::net::run(listener, router(w), config, shutdown).await
}
