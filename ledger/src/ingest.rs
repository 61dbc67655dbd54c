//! Group commit, in two stages. The writer thread takes every submission waiting
//! in its queue, judges them as one group and writes it with one checkpoint
//! signature ([`Log::prepare`]); the flusher thread makes every group written so
//! far durable with one flush ([`Log::flush`]), then publishes and answers them in
//! order ([`Log::publish`]). So the next group is judged while the previous one is
//! flushed. Signatures are verified before submissions reach the queue, in the
//! callers' threads, so the single writer only judges and writes.
//!
//! While the previous group is still being flushed and other submissions are
//! on their way (announced with [`Ingest::arriving`] before their signature
//! is checked), the writer waits for them, up to [`GATHER`], instead of
//! committing one or two entries at a time: the group could not be flushed
//! sooner anyway. Each group costs a checkpoint signature, a store write and
//! a flush, so under load larger groups leave more of the machine to
//! signature checks; a lone submission is never held back.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

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

/// Longest a group waits for submissions still being verified (while the
/// previous group is being flushed).
pub const GATHER: Duration = Duration::from_millis(1);

/// How often a gathering writer looks whether the flusher is done.
const GATHER_SLICE: Duration = Duration::from_micros(100);

/// The handle to the writer thread.
#[derive(Clone)]
pub struct Ingest {
    tx: SyncSender<Job>,
    /// Submissions announced but not yet queued (being parsed and verified).
    arriving: Arc<AtomicUsize>,
}

/// A submission on its way to the writer; see [`Ingest::arriving`].
pub struct Arriving(Arc<AtomicUsize>);

impl Drop for Arriving {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Ingest {
    /// Start the writer thread over `log`.
    pub fn start(log: Arc<Log>, clock: Clock) -> Ingest {
        let (tx, rx) = sync_channel::<Job>(QUEUE_ENTRIES_MAX);
        let arriving = Arc::new(AtomicUsize::new(0));
        let writer_arriving = arriving.clone();
        let flushing = Arc::new(AtomicBool::new(false));
        let writer_flushing = flushing.clone();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<(Prepared, Vec<Reply>)>();
        let flusher_log = log.clone();
        thread::Builder::new()
            .name("meent-flusher".into())
            .spawn(move || flusher_loop(&flusher_log, done_rx, &flushing))
            .expect("the OS can start two threads at start-up");
        thread::Builder::new()
            .name("meent-writer".into())
            .spawn(move || writer_loop(&log, &clock, rx, done_tx, &writer_arriving, &writer_flushing))
            .expect("the OS can start two threads at start-up");
        Ingest { tx, arriving }
    }

    /// Announce a submission before its signature is checked; drop the
    /// returned guard once it is submitted (or refused). While submissions
    /// are announced, the writer gathers them into one group.
    pub fn arriving(&self) -> Arriving {
        self.arriving.fetch_add(1, Ordering::AcqRel);
        Arriving(self.arriving.clone())
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

fn writer_loop(
    log: &Log,
    clock: &Clock,
    rx: Receiver<Job>,
    done: std::sync::mpsc::Sender<(Prepared, Vec<Reply>)>,
    arriving: &AtomicUsize,
    flushing: &AtomicBool,
) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let deadline = Instant::now() + GATHER;
        while jobs.len() < GROUP_COMMIT_ENTRIES_MAX {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => {
                    // Others are being verified while the last group is still
                    // being flushed (this one could not be flushed before anyway):
                    // wait for them, a little.
                    let left = deadline.saturating_duration_since(Instant::now());
                    if arriving.load(Ordering::Acquire) == 0 || !flushing.load(Ordering::Acquire) || left.is_zero() {
                        break;
                    }
                    match rx.recv_timeout(left.min(GATHER_SLICE)) {
                        Ok(j) => jobs.push(j),
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
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

/// Clears the `flushing` flag when the flusher ends, however it ends.
struct NotFlushing<'a>(&'a AtomicBool);

impl Drop for NotFlushing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

fn flusher_loop(log: &Log, rx: Receiver<(Prepared, Vec<Reply>)>, flushing: &AtomicBool) {
    let _clear = NotFlushing(flushing);
    while let Ok(first) = rx.recv() {
        flushing.store(true, Ordering::Release);
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
        flushing.store(false, Ordering::Release);
    }
}
