//! Time reading a state snapshot: `cargo run --release -p ledger --example
//! snapshot -- DATA/store/state-snapshot.bin` prints the file's size, the
//! memory the state takes, the time to decode and to write it (medians of
//! 3), to build its indexes and to copy it (as the server does for a
//! snapshot), and what the state holds.

use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: snapshot FILE");
    let bytes = std::fs::read(&path).expect("readable");
    let rss = || {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|st| {
                st.lines()
                    .find(|l| l.starts_with("VmRSS"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            })
            .unwrap_or(0)
    };
    let before = rss();
    let first = ledger::snapshot::decode(&bytes).expect("a snapshot");
    println!("the state read takes {} MiB resident", (rss() - before) / 1024);
    let (t, before) = (Instant::now(), rss());
    first.funds.build_indexes();
    println!("its indexes built in {:.2?}, {} MiB resident", t.elapsed(), (rss() - before) / 1024);
    let (t, before) = (Instant::now(), rss());
    let copy = first.clone();
    println!("copied in {:.2?}, {} MiB resident", t.elapsed(), (rss() - before) / 1024);
    drop(copy);
    drop(first);
    let (mut times, mut streamed) = (Vec::new(), Vec::new());
    let mut state = None;
    for _ in 0..3 {
        let t = Instant::now();
        state = Some(ledger::snapshot::decode(&bytes).expect("a snapshot"));
        times.push(t.elapsed());
        let t = Instant::now();
        let mut out = std::io::BufWriter::new(std::io::sink());
        ledger::snapshot::write(state.as_ref().expect("decoded"), &mut out).expect("written");
        streamed.push(t.elapsed());
    }
    times.sort();
    streamed.sort();
    println!("written as a stream in {:.2?} (median of 3)", streamed[1]);
    let s = state.expect("decoded");
    let len = bytes.len();
    println!(
        "{path}: {} MB, decoded in {:.2?} (median of 3): {} records, {} contributions, {} members",
        len / 1_000_000,
        times[1],
        s.size,
        s.funds.contributions.len(),
        s.register.members().count()
    );
}
