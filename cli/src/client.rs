//! The HTTP client side: sign an entry locally and submit it; read pages.

use std::path::Path;

use anyhow::anyhow;
use chrono::Utc;
use ed25519_dalek::SigningKey;
use ledger::crypto;
use ledger::entry::{self, Kind, VerifiedEntry};
use ledger::ids::Author;
use ledger::time::Timestamp;
use ledger::views::SubmitReceipt;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::exit::{CmdError, CmdResult, InputContext};

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
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .input_ctx("cannot make an HTTP client")?;
        Ok(Client { base: base.trim_end_matches('/').to_string(), http })
    }

    /// Submit a signed entry. A refusal is a `failed` error naming status, code and message.
    pub fn submit(&self, e: &VerifiedEntry) -> CmdResult<Accepted> {
        let url = format!("{}/v1/entries", self.base);
        let resp = self.http.post(&url).json(&e.json).send().input_ctx(format!("cannot reach {url}"))?;
        let status = resp.status();
        let body: Value = resp.json().input_ctx(format!("{url} did not answer with JSON"))?;
        if status.as_u16() == 201 || status.as_u16() == 200 {
            let receipt = serde_json::from_value(body.clone()).map_err(|e| {
                CmdError::failed(anyhow!(
                    "{url} accepted the entry but its receipt is not what this meent understands: {e}"
                ))
            })?;
            return Ok(Accepted { created: status.as_u16() == 201, body, receipt });
        }
        let code = body["error"]["code"].as_str().unwrap_or("unknown");
        let msg = body["error"]["message"].as_str().unwrap_or("");
        Err(CmdError::failed(anyhow!("refused by the ledger ({} {code}): {msg}", status.as_u16())))
    }

    /// GET a JSON document; 404 and other errors are reported with the server's message.
    pub fn get_json(&self, path: &str) -> CmdResult<Value> {
        let url = format!("{}{path}", self.base);
        let resp = self.http.get(&url).send().input_ctx(format!("cannot reach {url}"))?;
        let status = resp.status();
        let body: Value = resp.json().input_ctx(format!("{url} did not answer with JSON"))?;
        if !status.is_success() {
            let msg = body["error"]["message"].as_str().unwrap_or("");
            return Err(CmdError::failed(anyhow!("{url}: {} {msg}", status.as_u16())));
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
        let resp = self.http.get(&url).send().input_ctx(format!("cannot reach {url}"))?;
        if !resp.status().is_success() {
            return Err(CmdError::input(anyhow!("{url}: HTTP {}", resp.status().as_u16())));
        }
        Ok(resp.bytes().input_ctx(format!("reading {url}"))?.to_vec())
    }

    /// The current signed checkpoint.
    pub fn checkpoint(&self) -> CmdResult<String> {
        let b = self.get_bytes("/v1/checkpoint")?;
        String::from_utf8(b).input_ctx("the checkpoint is not UTF-8")
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
        let key = crypto::read_key_file(key).input_ctx("--key")?;
        Ok(Signer { author, key })
    }

    /// Sign an entry of `kind` with `body`, dated now.
    pub fn sign(&self, kind: Kind, body: Value) -> CmdResult<VerifiedEntry> {
        entry::sign_entry(kind, &self.author, &self.key, &Timestamp::from_instant(Utc::now()), body)
            .input_ctx(format!("cannot build the {} entry", kind.as_str()))
    }
}
