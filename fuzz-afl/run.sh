#!/usr/bin/env bash
# Run every fuzz target under AFL++ (afl.rs, stable Rust) for SECONDS each,
# all at once, at the lowest priority, then print what each got.
#
#   bash fuzz-afl/run.sh SECONDS [TARGET...]
#
# Needs `cargo install cargo-afl` (once; it builds AFL++ itself). Seeds: the
# test data's real files, signed entries, records and checkpoints, written by
# the seeded test. The corpus and findings go to $AFL_WORK (default
# fuzz-afl/work); a crash leaves its input in $AFL_WORK/out/<target>/default/crashes/:
# copy it into fuzz/regressions/<target>/ and fix the parser (the seeded test
# in every `cargo test` then replays it).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:?usage: run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(entry record jcs checkpoint pabulib camt053 mt940 bank apply)
work=${AFL_WORK:-$PWD/work}
mkdir -p "$work"
missing=0
for t in "${targets[@]}"; do [ -d "$work/corpus/$t" ] || missing=1; done
if [ $missing = 1 ]; then
  MEENT_FUZZ_WRITE_SEEDS="$work/corpus" cargo test --manifest-path ../Cargo.toml -q -p meent-tests \
    --test fuzz_seeded -- --exact the_seeds_are_accepted_by_their_parsers every_fuzz_target_survives_its_seeded_run
fi
cargo afl build --release
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/meent-fuzz-afl
export AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
pids=()
for t in "${targets[@]}"; do
  mkdir -p "$work/out/$t"
  # -V: stop after SECONDS; an existing output directory is resumed (-i -).
  input="$work/corpus/$t"
  [ -f "$work/out/$t/default/fuzzer_stats" ] && input=-
  # apply signs and judges up to 256 entries an input: a longer time limit.
  limit=()
  [ "$t" = apply ] && limit=(-t 5000)
  nice -n 19 cargo afl fuzz -V "$seconds" "${limit[@]}" -i "$input" -o "$work/out/$t" -- "$bin" "$t" \
    > "$work/$t.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
printf '%-11s %9s %12s %9s %8s %9s %7s %6s\n' target seconds execs 'execs/s' corpus coverage crashes hangs
for t in "${targets[@]}"; do
  s="$work/out/$t/default/fuzzer_stats"
  if [ ! -f "$s" ]; then echo "$t: no stats, see $work/$t.log"; continue; fi
  v() { awk -F' *: *' -v k="$1" '$1 == k {print $2}' "$s"; }
  secs=$(v run_time)
  execs=$(v execs_done)
  printf '%-11s %9s %12s %9s %8s %9s %7s %6s\n' "$t" "$secs" "$execs" "$((execs / (secs > 0 ? secs : 1)))" \
    "$(v corpus_count)" "$(v bitmap_cvg)" "$(v saved_crashes)" "$(v saved_hangs)"
done
