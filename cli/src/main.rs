// jemalloc: under ingest load the server allocates and frees many small
// buffers per request across threads (a JSON tree is built by a request's task
// and dropped by the writer); glibc's allocator took about a tenth of the
// server's CPU there (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    std::process::exit(cli::main_entry())
}
