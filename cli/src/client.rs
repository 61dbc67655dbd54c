//! The HTTP client side: sign an entry locally and submit it; read pages.

use std::path::Path;

use anyhow::anyhow;
use ed25519_dalek::SigningKey;
use ledger::crypto;
use ledger::entry::{self, Kind, VerifiedEntry};
use ledger::ids::Author;
use ledger::time::Timestamp;
use ledger::views::MemberView;
use ledger::views::SubmitReceipt;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::exit::{CmdError, CmdResult, Failure, InputContext};

/// The default server.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// A client of one server.
pub struct Client {
    base: String,
    http: reqwest::blocking::Client,
}

/// The server's answer to an accepted entry.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// 201 (new) or 200 (already in the log).
    pub created: bool,
    /// `{seq, id, leaf_hash, tree_size}`.
    pub body: Value,
    /// The same, typed.
    pub receipt: SubmitReceipt,
}

impl Client {
    /// A client for `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> CmdResult<Client> {
        check_scheme(base)?;
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| CmdError::io(anyhow!(e).context("cannot make an HTTP client")))?;
        Ok(Client { base: base.trim_end_matches('/').to_string(), http })
    }

    /// Submit a signed entry. A refusal is a `refused` error naming status, code and message.
    pub fn submit(&self, e: &VerifiedEntry) -> CmdResult<Accepted> {
        let url = format!("{}/v1/entries", self.base);
        let resp = self.http.post(&url).json(&e.json).send().map_err(|e| unreachable(&url, e))?;
        let status = resp.status().as_u16();
        let body = json_of(&url, resp)?;
        if status == 201 || status == 200 {
            let receipt = serde_json::from_value(body.clone()).map_err(|e| {
                CmdError::input(anyhow!(
                    "{url} accepted the entry but its receipt is not what this meent understands: {e}"
                ))
            })?;
            return Ok(Accepted { created: status == 201, body, receipt });
        }
        Err(self.explain(answer_error(&url, status, &body), &body, Some(e)))
    }

    /// Add to a refusal what the user can do about it: the nearest fund ids to
    /// an unknown one; for a key that is not the member's current key, both keys.
    fn explain(&self, err: CmdError, body: &Value, entry: Option<&VerifiedEntry>) -> CmdError {
        let msg = body["error"]["message"].as_str().unwrap_or("");
        let hint = match body["error"]["code"].as_str() {
            Some("unknown_fund") => self.fund_hint(msg),
            Some("wrong_key") => entry.and_then(|e| self.key_hint(e)),
            _ => None,
        };
        match hint {
            Some(h) => CmdError::new(err.class, err.error.context(h)),
            None => err,
        }
    }

    fn fund_hint(&self, msg: &str) -> Option<String> {
        let typed = msg.strip_prefix("no fund ")?.trim();
        let funds = self.get_json_plain("/v1/funds").ok()?;
        let ids = crate::input::ids_of(&funds, "funds");
        let near = crate::input::nearest(typed, ids.iter().map(String::as_str));
        Some(match near.as_slice() {
            [] if ids.is_empty() => format!("there is no fund {typed:?}: this ledger has no funds yet"),
            [] => format!("there is no fund {typed:?}; the funds are: {}", ids.join(", ")),
            _ => format!(
                "there is no fund {typed:?}; did you mean {}? (`meent fund list` lists them)",
                near.join(" or ")
            ),
        })
    }

    fn key_hint(&self, e: &VerifiedEntry) -> Option<String> {
        let member = e.author.member()?;
        let m: MemberView = self.get(&format!("/v1/members/{member}")).ok()?;
        let signed = e.key.to_hex();
        let old = if m.previous_keys.iter().any(|k| k.to_hex() == signed) { ", a key rotated out" } else { "" };
        Some(format!(
            "your --key file holds public key {signed}{old}, but {member}'s current key is {}: sign with the key file \
             of that key (meent keygen printed it), or, if that key is lost, ask a registrar about key recovery",
            m.key.to_hex()
        ))
    }

    /// GET a JSON document without explaining a refusal (used by the explanations themselves).
    fn get_json_plain(&self, path: &str) -> CmdResult<Value> {
        let url = format!("{}{path}", self.base);
        let resp = self.http.get(&url).send().map_err(|e| unreachable(&url, e))?;
        let status = resp.status();
        let body = json_of(&url, resp)?;
        if !status.is_success() {
            return Err(answer_error(&url, status.as_u16(), &body));
        }
        Ok(body)
    }

    /// GET a JSON document; 404 and other errors are reported with the server's code and message.
    pub fn get_json(&self, path: &str) -> CmdResult<Value> {
        let url = format!("{}{path}", self.base);
        let resp = self.http.get(&url).send().map_err(|e| unreachable(&url, e))?;
        let status = resp.status();
        let body = json_of(&url, resp)?;
        if !status.is_success() {
            return Err(self.explain(answer_error(&url, status.as_u16(), &body), &body, None));
        }
        Ok(body)
    }

    /// GET a view of `ledger::views`.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> CmdResult<T> {
        let v = self.get_json(path)?;
        serde_json::from_value(v)
            .map_err(|e| CmdError::failed(anyhow!("the server's {path} is not what this meent understands: {e}")))
    }

    /// GET every page of a list (`path` with its filters), following `next`
    /// from position 0; `next` reads a page's `next`.
    pub fn get_pages<T: DeserializeOwned>(&self, path: &str, next: impl Fn(&T) -> Option<u64>) -> CmdResult<Vec<T>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut pages = Vec::new();
        let mut from = Some(0);
        while let Some(f) = from {
            let page: T = self.get(&format!("{path}{sep}from={f}"))?;
            from = next(&page).filter(|n| *n > f);
            pages.push(page);
        }
        Ok(pages)
    }

    /// GET raw bytes.
    pub fn get_bytes(&self, path: &str) -> CmdResult<Vec<u8>> {
        let url = format!("{}{path}", self.base);
        let resp = self.http.get(&url).send().map_err(|e| unreachable(&url, e))?;
        let status = resp.status();
        let bytes = resp.bytes().map_err(|e| CmdError::io(anyhow!(e).context(format!("reading {url}"))))?;
        if !status.is_success() {
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            return Err(answer_error(&url, status.as_u16(), &body));
        }
        Ok(bytes.to_vec())
    }

    /// The current signed checkpoint.
    pub fn checkpoint(&self) -> CmdResult<String> {
        let b = self.get_bytes("/v1/checkpoint")?;
        String::from_utf8(b).map_err(|_| CmdError::io(anyhow!("the server's checkpoint is not UTF-8")))
    }
}

/// Who signs: a key file and a member id.
pub struct Signer {
    /// The member.
    pub author: Author,
    /// The key.
    pub key: SigningKey,
}

impl Signer {
    /// Load `--key FILE` for `--as ID`.
    pub fn load(key: &Path, as_id: &str) -> CmdResult<Signer> {
        let author: Author = as_id.parse().input_ctx(format!("--as {as_id}"))?;
        let key = crypto::read_key_file(key).map_err(|e| {
            let what = std::fs::read_to_string(key).ok().and_then(|t| crate::keyfile::describe(&t));
            let e = anyhow!(e).context("--key");
            CmdError::input(match what {
                Some(w) => e.context(w),
                None => e,
            })
        })?;
        Ok(Signer { author, key })
    }

    /// Sign an entry of `kind` with `body`, dated now.
    pub fn sign(&self, kind: Kind, body: Value) -> CmdResult<VerifiedEntry> {
        entry::sign_entry(kind, &self.author, &self.key, &Timestamp::from_instant(crate::clock::now()), body)
            .input_ctx(format!("cannot build the {} entry", kind.as_str()))
    }
}

/// The class of a server's answer that is not a success, in one place: a 4xx is
/// the ledger refusing (a refused entry, an unknown fund or round: exit 1); a
/// 5xx or anything else is the server failing (exit 2, as when it is unreachable).
pub fn answer_failure(status: u16) -> Failure {
    if (400..500).contains(&status) {
        Failure::Refused
    } else {
        Failure::Io
    }
}

/// The error for a non-success answer: its status, code and message.
fn answer_error(url: &str, status: u16, body: &Value) -> CmdError {
    let code = body["error"]["code"].as_str().unwrap_or("unknown");
    let msg = body["error"]["message"].as_str().unwrap_or("");
    let class = answer_failure(status);
    let what = if class == Failure::Refused { "refused by the ledger" } else { "the server failed" };
    CmdError::new(class, anyhow!("{what} ({status} {code}): {msg} [{url}]"))
}

fn unreachable(url: &str, e: reqwest::Error) -> CmdError {
    if e.is_connect() {
        return CmdError::io(anyhow!(e).context(format!(
            "cannot reach {url}: no meent server answers there; start `meent serve` or pass `--server URL` \
             (or set MEENT_SERVER)"
        )));
    }
    CmdError::io(anyhow!(e).context(format!("cannot reach {url}")))
}

/// A server URL must start with `http://` or `https://`.
fn check_scheme(base: &str) -> CmdResult {
    if base.starts_with("http://") || base.starts_with("https://") {
        return Ok(());
    }
    let fix = match base.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}:// is not supported: use http://{rest} or https://{rest}"),
        None => format!("a server URL starts with http:// or https://: pass --server http://{base}"),
    };
    Err(CmdError::usage(anyhow!("--server {base:?}: {fix}")))
}

fn json_of(url: &str, resp: reqwest::blocking::Response) -> CmdResult<Value> {
    let status = resp.status().as_u16();
    resp.json().map_err(|e| {
        // A proxy's HTML error page: classify by its status, not as a bad answer.
        let class = if (200..300).contains(&status) { Failure::Io } else { answer_failure(status) };
        CmdError::new(class, anyhow!(e).context(format!("{url} did not answer with JSON (HTTP {status})")))
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;

    /// A server on 127.0.0.1 that answers every request with `status` and `body`.
    fn answering(status: u16, body: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut buf = [0u8; 8192];
                let _ = s.read(&mut buf);
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes());
                let _ = s.write_all(body.as_bytes());
            }
        });
        url
    }

    fn entry() -> VerifiedEntry {
        let key = crypto::generate_key();
        let author: Author = "coop-one".parse().expect("author");
        entry::sign_entry(
            Kind::FundJoin,
            &author,
            &key,
            &Timestamp::from_instant(crate::clock::now()),
            serde_json::json!({"fund": "f-one"}),
        )
        .expect("entry")
    }

    const REFUSED: &str = r#"{"error":{"code":"unknown_fund","message":"no fund f-one","detail":{}}}"#;
    const DOWN: &str = r#"{"error":{"code":"unavailable","message":"try later","detail":{}}}"#;

    #[test]
    fn a_refusal_exits_1_in_every_call() {
        let c = Client::new(&answering(404, REFUSED)).expect("client");
        let e = c.submit(&entry()).expect_err("refused");
        assert_eq!((e.class, e.status()), (Failure::Refused, 1));
        assert!(format!("{:#}", e.error).contains("unknown_fund"), "{:#}", e.error);
        assert_eq!(c.get_json("/v1/funds/f-one").expect_err("404").status(), 1);
        assert_eq!(c.get_bytes("/v1/funds/f-one").expect_err("404").status(), 1);
        let c = Client::new(&answering(422, REFUSED)).expect("client");
        assert_eq!(c.submit(&entry()).expect_err("refused").status(), 1);
    }

    #[test]
    fn a_failing_or_unreachable_server_exits_2_in_every_call() {
        let c = Client::new(&answering(503, DOWN)).expect("client");
        let e = c.submit(&entry()).expect_err("unavailable");
        assert_eq!((e.class, e.status()), (Failure::Io, 2));
        assert_eq!(c.get_json("/v1/funds").expect_err("503").status(), 2);
        assert_eq!(c.get_bytes("/v1/checkpoint").expect_err("503").status(), 2);
        // Nothing listens on a port just released.
        let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let c = Client::new(&format!("http://127.0.0.1:{port}")).expect("client");
        assert_eq!(c.get_json("/v1/funds").expect_err("unreachable").status(), 2);
        assert_eq!(c.submit(&entry()).expect_err("unreachable").status(), 2);
        // A success that is not JSON is the server failing, not the ledger refusing.
        let c = Client::new(&answering(200, "<html>")).expect("client");
        assert_eq!(c.get_json("/v1/funds").expect_err("not JSON").class, Failure::Io);
    }

    #[test]
    fn the_class_of_an_answer() {
        for s in [400, 401, 403, 404, 409, 413, 422] {
            assert_eq!(answer_failure(s), Failure::Refused, "{s}");
        }
        for s in [500, 502, 503, 302] {
            assert_eq!(answer_failure(s), Failure::Io, "{s}");
        }
    }
}
