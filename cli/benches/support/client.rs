//! What the ingest benchmark and the `http_floor` example share: a minimal
//! HTTP/1.1 client (like `wrk`: requests pre-serialised, answers read by
//! status line and Content-Length, one thread), so that the machine's cores go
//! to the server as far as possible; and a process's CPU time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Send `n` requests over `connections` concurrent keep-alive connections to
/// `addr` (`host:port`), request `i` being `requests[i % requests.len()]`;
/// every answer must have status `want`. Returns requests/s.
pub fn hammer(addr: &str, requests: Arc<Vec<Vec<u8>>>, n: usize, connections: usize, want: u16) -> f64 {
    use tokio::io::AsyncWriteExt;
    let next = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let start = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let (requests, next, answered, addr) = (requests.clone(), next.clone(), answered.clone(), addr.to_string());
            tasks.push(tokio::spawn(async move {
                let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let mut buf: Vec<u8> = Vec::with_capacity(4096);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    stream.write_all(&requests[i % requests.len()]).await.expect("write");
                    let (status, body) = read_response(&mut stream, &mut buf).await;
                    assert_eq!(status, want, "{}", String::from_utf8_lossy(&buf[body..]));
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for t in tasks {
            t.await.expect("client task");
        }
    });
    assert_eq!(answered.load(Ordering::Relaxed), n);
    n as f64 / start.elapsed().as_secs_f64()
}

/// Read one response into `buf` (cleared first): headers, then
/// Content-Length bytes. Its status, and where its body starts in `buf`.
pub async fn read_response(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> (u16, usize) {
    use tokio::io::AsyncReadExt;
    let mut chunk = [0u8; 4096];
    buf.clear();
    let (head_end, status, len) = loop {
        let k = stream.read(&mut chunk).await.expect("read");
        assert!(k > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..k]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
            let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status");
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                .unwrap_or(0);
            break (p + 4, status, len);
        }
    };
    while buf.len() < head_end + len {
        let k = stream.read(&mut chunk).await.expect("read");
        assert!(k > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..k]);
    }
    (status, head_end)
}

/// CPU seconds (user + system) used so far by process `pid`.
pub fn cpu_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // SAFETY: sysconf reads a constant of the system; it touches no memory of ours.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / ticks
}
