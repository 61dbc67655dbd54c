//! Group commit: one writer thread takes every submission waiting in its queue,
//! appends them as one group (one flush, one checkpoint signature) and answers
//! each. Signatures are verified before submissions reach the queue, in the
//! callers' threads, so the single writer only judges and writes.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;

use chrono::{DateTime, Utc};

use crate::entry::VerifiedEntry;
use crate::limits::GROUP_COMMIT_ENTRIES_MAX;
use crate::log::{Ack, Log, SubmitError};

/// How a submitter is answered.
pub type Reply = Box<dyn FnOnce(Result<Ack, SubmitError>) + Send>;

/// Where the writer reads the time.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

struct Job {
    entry: VerifiedEntry,
    reply: Reply,
}

/// Most submissions waiting for the writer before new ones are turned away (503).
pub const QUEUE_ENTRIES_MAX: usize = 16 * 1024;

/// The handle to the writer thread.
#[derive(Clone)]
pub struct Ingest {
    tx: SyncSender<Job>,
}

impl Ingest {
    /// Start the writer thread over `log`.
    pub fn start(log: Arc<Log>, clock: Clock) -> Ingest {
        let (tx, rx) = sync_channel::<Job>(QUEUE_ENTRIES_MAX);
        thread::Builder::new()
            .name("meent-writer".into())
            .spawn(move || writer_loop(&log, &clock, rx))
            .expect("the OS can start one thread at start-up");
        Ingest { tx }
    }

    /// Queue a verified entry; `reply` is called once it is durable or refused.
    pub fn submit(&self, entry: VerifiedEntry, reply: Reply) {
        match self.tx.try_send(Job { entry, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(job)) => (job.reply)(Err(SubmitError::Unavailable("too many submissions waiting; try again".into()))),
            Err(TrySendError::Disconnected(job)) => (job.reply)(Err(SubmitError::Unavailable("the writer has stopped".into()))),
        }
    }
}

fn writer_loop(log: &Log, clock: &Clock, rx: Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < GROUP_COMMIT_ENTRIES_MAX {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let (entries, replies): (Vec<_>, Vec<_>) = jobs.into_iter().map(|j| (j.entry, j.reply)).unzip();
        let results = log.append(entries, clock());
        for (reply, result) in replies.into_iter().zip(results) {
            reply(result);
        }
    }
}
