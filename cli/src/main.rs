// jemalloc: under ingest load the server allocates and frees many small
// buffers per request across threads (a JSON tree is built by a request's task
// and dropped by the writer); glibc's allocator took about a tenth of the
// server's CPU there (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

// jemalloc's options, read at its start (its `malloc_conf`): its thread caches
// keep freed blocks up to 1 MiB (by default 32 KiB). Larger blocks went back to
// the shared arena and came back as fresh pages, a page fault each: the
// budgeting rules on mid-size instances (lists of tens of KiB per call) ran
// up to a quarter slower than with glibc's allocator (docs/PERFORMANCE.md).
#[export_name = "_rjem_malloc_conf"]
static JEMALLOC_CONF: Option<&'static std::ffi::c_char> = Some(unsafe { &*c"tcache_max:1048576".as_ptr() });

fn main() {
    std::process::exit(cli::main_entry())
}
