//! Group commit, in two stages. The writer thread takes every submission waiting
//! in its queue and judges them as one group with one checkpoint signature
//! ([`Log::prepare`]); the flusher thread stores every group prepared so far
//! ([`Log::write`]), makes them durable with one flush ([`Log::flush`]), then
//! publishes and answers them in order ([`Log::publish`]). So the next group is
//! judged while the previous one is written and flushed (the store's write
//! waits for a flush in progress, so it belongs to the flusher's side).
//! Signatures are verified before submissions reach the queue, in the callers'
//! threads, so the single writer only judges rules and signs checkpoints.
//!
//! Each group costs a checkpoint signature, a store write and a flush (which
//! wakes the storage engine's I/O threads), so under load larger groups leave
//! more of the machine to signature checks. The writer therefore gathers, up
//! to [`GATHER`]:
//! - while other submissions are on their way (announced with
//!   [`Ingest::arriving`] before their signature is checked, so at most one
//!   signature check away);
//! - while it holds fewer than half of the submissions in flight (announced
//!   and not yet answered): with many concurrent clients, one flush then
//!   answers half of them while the other half are being verified.
//!
//! A lone submission does not wait, and two clients take turns without
//! waiting for each other for longer than a signature check.
//!
//! A panic in either thread (judging a group, writing to the store) fails the
//! log ([`Log::failure`]) and answers the groups it held with 503; the
//! threads go on answering every later submission with 503 until a restart.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
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

/// Longest a group waits for more submissions.
pub const GATHER: Duration = Duration::from_millis(1);

/// How often a gathering writer looks again whether more are coming.
const GATHER_SLICE: Duration = Duration::from_micros(100);

/// The handle to the writer thread.
#[derive(Clone)]
pub struct Ingest {
    tx: SyncSender<Job>,
    counts: Arc<Counts>,
}

/// Where submissions are, for the writer's gathering.
#[derive(Default)]
struct Counts {
    /// Announced but not yet queued (being parsed and verified).
    arriving: AtomicUsize,
    /// Queued so far (a count that only grows).
    queued: AtomicUsize,
    /// Of those, answered so far (a count that only grows).
    answered: AtomicUsize,
}

impl Counts {
    /// Submissions announced or queued and not yet answered.
    fn in_flight(&self) -> usize {
        let answered = self.answered.load(Ordering::Acquire);
        self.arriving.load(Ordering::Acquire) + self.queued.load(Ordering::Acquire).saturating_sub(answered)
    }

    fn answered(&self, n: usize) {
        self.answered.fetch_add(n, Ordering::AcqRel);
    }
}

/// A submission on its way to the writer; see [`Ingest::arriving`].
pub struct Arriving(Arc<Counts>);

impl Drop for Arriving {
    fn drop(&mut self) {
        self.0.arriving.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Ingest {
    /// Start the writer thread over `log`.
    pub fn start(log: Arc<Log>, clock: Clock) -> Ingest {
        let (tx, rx) = sync_channel::<Job>(QUEUE_ENTRIES_MAX);
        let counts = Arc::new(Counts::default());
        let (writer_counts, flusher_counts) = (counts.clone(), counts.clone());
        let (done_tx, done_rx) = std::sync::mpsc::channel::<(Prepared, Vec<Reply>)>();
        let flusher_log = log.clone();
        thread::Builder::new()
            .name("meent-flusher".into())
            .spawn(move || flusher_loop(&flusher_log, done_rx, &flusher_counts))
            .expect("the OS can start two threads at start-up");
        thread::Builder::new()
            .name("meent-writer".into())
            .spawn(move || writer_loop(&log, &clock, rx, done_tx, &writer_counts))
            .expect("the OS can start two threads at start-up");
        Ingest { tx, counts }
    }

    /// Announce a submission before its signature is checked; drop the
    /// returned guard once it is submitted (or refused). While submissions
    /// are announced, the writer gathers them into one group.
    pub fn arriving(&self) -> Arriving {
        self.counts.arriving.fetch_add(1, Ordering::AcqRel);
        Arriving(self.counts.clone())
    }

    /// Queue a verified entry; `reply` is called once it is durable or refused.
    pub fn submit(&self, entry: VerifiedEntry, reply: Reply) {
        self.counts.queued.fetch_add(1, Ordering::AcqRel);
        let refused = match self.tx.try_send(Job { entry, reply }) {
            Ok(()) => return,
            Err(TrySendError::Full(job)) => (job, "too many submissions waiting; try again"),
            Err(TrySendError::Disconnected(job)) => (job, "the writer has stopped"),
        };
        self.counts.answered(1);
        (refused.0.reply)(Err(SubmitError::Unavailable(refused.1.into())));
    }
}

fn writer_loop(
    log: &Log,
    clock: &Clock,
    rx: Receiver<Job>,
    done: std::sync::mpsc::Sender<(Prepared, Vec<Reply>)>,
    counts: &Counts,
) {
    let _fail = FailOnPanic(log);
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let deadline = Instant::now() + GATHER;
        while jobs.len() < GROUP_COMMIT_ENTRIES_MAX {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => {
                    // Wait a little for others: while others are being verified
                    // (each joins within one signature check), and while this group
                    // holds fewer than half of the submissions in flight.
                    let left = deadline.saturating_duration_since(Instant::now());
                    let verifying = counts.arriving.load(Ordering::Acquire) > 0;
                    let few = jobs.len() < counts.in_flight() / 2;
                    if !(verifying || few) || left.is_zero() {
                        break;
                    }
                    // Sleep rather than wait on the queue: a waiting receiver is
                    // woken by every submission (a futex wake from the request's
                    // thread each time); a sleeping one takes them all at once.
                    thread::sleep(left.min(GATHER_SLICE));
                }
            }
        }
        let (entries, replies): (Vec<_>, Vec<_>) = jobs.into_iter().map(|j| (j.entry, j.reply)).unzip();
        let n = entries.len();
        // A panic while judging (the log has failed by then) answers the group with 503.
        let prepared = catch_unwind(AssertUnwindSafe(|| log.prepare(entries, clock()))).unwrap_or_else(|panic| {
            let why = log.fail(format!("internal error: judging a group panicked: {}", panic_message(&*panic)));
            Prepared::failed(n, &why)
        });
        if let Err(std::sync::mpsc::SendError((mut prepared, replies))) = done.send((prepared, replies)) {
            // The flusher is gone (it panicked), and with it any group it had not
            // written: refuse this one rather than write it after a gap.
            log.fail("the flusher thread stopped; restart the server to recheck the store".into());
            log.write(&mut prepared);
            let flushed = log.flush();
            counts.answered(replies.len());
            for (reply, result) in replies.into_iter().zip(log.publish(prepared, &flushed)) {
                reply(result);
            }
        }
    }
}

/// Fails the log if a thread of the pipeline ends by a panic (one not caught
/// where it is expected): the groups it held are lost, and no later group may
/// be written after them.
struct FailOnPanic<'a>(&'a Log);

impl Drop for FailOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.fail("internal error: a writer thread stopped; restart the server to recheck the store".into());
        }
    }
}

/// The message a panic was given, if it was a string.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => s,
        (_, Some(s)) => s,
        _ => "(no message)",
    }
}

fn flusher_loop(log: &Log, rx: Receiver<(Prepared, Vec<Reply>)>, counts: &Counts) {
    let _fail = FailOnPanic(log);
    while let Ok(first) = rx.recv() {
        let mut groups = vec![first];
        while let Ok(g) = rx.try_recv() {
            groups.push(g);
        }
        // Write every group, then one flush covers them all. A panic in the
        // store fails the log, and every group here is answered with 503.
        let flushed = catch_unwind(AssertUnwindSafe(|| {
            for (prepared, _) in &mut groups {
                log.write(prepared);
            }
            log.flush()
        }))
        .unwrap_or_else(|panic| {
            Err(log.fail(format!("internal error: writing to the store panicked: {}", panic_message(&*panic))))
        });
        for (prepared, replies) in groups {
            counts.answered(replies.len());
            for (reply, result) in replies.into_iter().zip(log.publish(prepared, &flushed)) {
                reply(result);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::channel;
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::crypto;
    use crate::entry::{sign_entry, Kind};
    use crate::store::faulty::{Effect, FaultyStore, Op, Times};
    use crate::store::memory::MemStore;
    use crate::time::Timestamp;

    fn application(id: &str) -> VerifiedEntry {
        let body = json!({"id": id, "name": id, "member_kind": "collective", "legal_form": "cooperatie"});
        let at = Timestamp::from_instant(Utc::now());
        sign_entry(Kind::MemberApply, &id.parse().unwrap(), &crypto::generate_key(), &at, body).unwrap()
    }

    /// Submit through the pipeline and wait for the answer (it must come).
    fn submit(ingest: &Ingest, id: &str) -> Result<Ack, SubmitError> {
        let (tx, rx) = channel();
        ingest.submit(
            application(id),
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        rx.recv_timeout(Duration::from_secs(60)).expect("the pipeline answers every submission")
    }

    fn pipeline() -> (FaultyStore<MemStore>, Arc<Log>, Ingest) {
        let store = FaultyStore::new(MemStore::new());
        let log = Log::create_in(store.clone(), crypto::generate_key(), "meent.test/ingest", vec![], Utc::now());
        let log = Arc::new(log.unwrap());
        let ingest = Ingest::start(log.clone(), Arc::new(Utc::now));
        (store, log, ingest)
    }

    fn unavailable(r: Result<Ack, SubmitError>, why: &str) {
        assert!(matches!(&r, Err(SubmitError::Unavailable(m)) if m.contains(why)), "{r:?}");
    }

    /// A panic in the writer thread (judging) or in the flusher thread (the
    /// store's write, or its flush) answers the submission with 503, fails the
    /// log, and the pipeline goes on answering every later submission with 503.
    #[test]
    fn a_panic_in_either_thread_answers_503_and_fails_the_log() {
        for op in [Op::Read, Op::Write, Op::Flush] {
            let (store, log, ingest) = pipeline();
            assert!(submit(&ingest, "energie-coop-noord").is_ok());
            store.inject(op, 1, Effect::Panic, Times::Once);
            unavailable(submit(&ingest, "voedselbank-west"), "panicked");
            assert!(log.failure().is_some_and(|f| f.contains("panicked")), "{op:?}: {:?}", log.failure());
            unavailable(submit(&ingest, "buurtfonds-oost"), "panicked");
            assert_eq!(log.size(), 2, "{op:?}");
        }
    }
}
