//! Time reading a state snapshot: `cargo run --release -p ledger --example
//! snapshot -- DATA/store/state-snapshot.bin` prints the file's size, the
//! time to read and decode it (median of 3), and what the state holds.

use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: snapshot FILE");
    let bytes = std::fs::read(&path).expect("readable");
    let (mut times, mut streamed) = (Vec::new(), Vec::new());
    let mut state = None;
    for _ in 0..3 {
        let t = Instant::now();
        state = Some(ledger::snapshot::decode(&bytes).expect("a snapshot"));
        times.push(t.elapsed());
        let t = Instant::now();
        let file = std::fs::File::open(&path).expect("readable");
        drop(ledger::snapshot::read(file).expect("a snapshot"));
        streamed.push(t.elapsed());
    }
    times.sort();
    streamed.sort();
    println!("read from the file as a stream in {:.2?} (median of 3)", streamed[1]);
    let s = state.expect("decoded");
    println!(
        "{path}: {} MB, decoded in {:.2?} (median of 3): {} records, {} contributions, {} members",
        bytes.len() / 1_000_000,
        times[1],
        s.size,
        s.funds.contributions.len(),
        s.register.members().count()
    );
}
