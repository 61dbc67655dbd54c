//! AFL++ (through afl.rs, on stable Rust) over meent's fuzz targets: the
//! bodies are `fuzz/src/targets.rs`, the same that cargo-fuzz and the seeded
//! run of every `cargo test` use. One binary; the target is its argument:
//!
//! ```sh
//! cargo afl build --release
//! cargo afl fuzz -i corpus/entry -o out/entry target/release/meent-fuzz-afl entry
//! ```

// (The seeds' helpers of the `apply` target are used by the tests, not here.)
#[allow(dead_code)]
#[path = "../../fuzz/src/targets.rs"]
mod targets;

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(&(_, target)) = targets::TARGETS.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = targets::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("usage: meent-fuzz-afl <target>, one of: {}", names.join(", "));
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| target(data));
}
