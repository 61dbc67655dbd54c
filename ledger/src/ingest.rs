//! Group commit, in two stages. The writer thread takes every submission waiting
//! in its queue, judges them as one group and writes it with one checkpoint
//! signature ([`Log::prepare`]); the flusher thread makes every group written so
//! far durable with one flush ([`Log::flush`]), then publishes and answers them in
//! order ([`Log::publish`]). So the next group is judged while the previous one is
//! flushed. Signatures are verified before submissions reach the queue, in the
//! callers' threads, so the single writer only judges and writes.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;

use chrono::{DateTime, Utc};

use crate::entry::VerifiedEntry;
use crate::limits::GROUP_COMMIT_ENTRIES_MAX;
use crate::log::{Ack, Log, Prepared, SubmitError};

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
        let (done_tx, done_rx) = std::sync::mpsc::channel::<(Prepared, Vec<Reply>)>();
        let flusher_log = log.clone();
        thread::Builder::new()
            .name("meent-flusher".into())
            .spawn(move || flusher_loop(&flusher_log, done_rx))
            .expect("the OS can start two threads at start-up");
        thread::Builder::new()
            .name("meent-writer".into())
            .spawn(move || writer_loop(&log, &clock, rx, done_tx))
            .expect("the OS can start two threads at start-up");
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

fn writer_loop(log: &Log, clock: &Clock, rx: Receiver<Job>, done: std::sync::mpsc::Sender<(Prepared, Vec<Reply>)>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < GROUP_COMMIT_ENTRIES_MAX {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let (entries, replies): (Vec<_>, Vec<_>) = jobs.into_iter().map(|j| (j.entry, j.reply)).unzip();
        let prepared = log.prepare(entries, clock());
        if let Err(std::sync::mpsc::SendError((prepared, replies))) = done.send((prepared, replies)) {
            // The flusher is gone: flush and answer here.
            let flushed = log.flush();
            for (reply, result) in replies.into_iter().zip(log.publish(prepared, &flushed)) {
                reply(result);
            }
        }
    }
}

fn flusher_loop(log: &Log, rx: Receiver<(Prepared, Vec<Reply>)>) {
    while let Ok(first) = rx.recv() {
        let mut groups = vec![first];
        while let Ok(g) = rx.try_recv() {
            groups.push(g);
        }
        // One flush covers every group written before it.
        let flushed = log.flush();
        for (prepared, replies) in groups {
            for (reply, result) in replies.into_iter().zip(log.publish(prepared, &flushed)) {
                reply(result);
            }
        }
    }
}
