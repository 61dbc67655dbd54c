//! A fund's scene for the treasurer and fund end-to-end tests: a ledger with a registrar,
//! the real server, members registered with the CLI, and a CAMT.053 writer for statements.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{get, keygen, meent, meent_ok, Server, TestClock};

/// The registrar of the test register.
pub const REGISTRAR: &str = "kamer-van-commons";

/// A running ledger with its members' keys.
pub struct Scene {
    /// Keeps the temporary directory alive.
    pub tmp: tempfile::TempDir,
    /// The directory: keys, data, statements.
    pub dir: PathBuf,
    /// The server.
    pub server: Server,
    /// Its URL.
    pub url: String,
    /// Member id → key file.
    pub keys: BTreeMap<String, PathBuf>,
    /// An HTTP client.
    pub http: reqwest::blocking::Client,
    /// The clock of the server and of every command the scene runs (on the
    /// thread that started it): `sc.clock.advance(…)` lets a week pass.
    pub clock: TestClock,
}

impl Scene {
    /// A new ledger with one registrar, served on 127.0.0.1:0.
    pub fn start() -> Scene {
        let clock = TestClock::install();
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let (reg_key, reg_pk) = keygen(&dir, REGISTRAR);
        let data = dir.join("data");
        meent_ok(&[
            "init",
            "--data",
            s(&data),
            "--origin",
            "meent.test/amsterdam",
            "--registrar",
            &format!("{REGISTRAR}={reg_pk}"),
        ]);
        let server = Server::start(&data);
        let url = server.url.clone();
        let mut keys = BTreeMap::new();
        keys.insert(REGISTRAR.to_string(), reg_key);
        Scene { tmp, dir, server, url, keys, http: reqwest::blocking::Client::new(), clock }
    }

    /// Register a member through the CLI: a new key, `member apply`, the registrar admits.
    pub fn member(&mut self, id: &str, name: &str, kind: &str) {
        let (k, _) = keygen(&self.dir, id);
        let legal = if kind == "municipality" { "public-body" } else { "stichting" };
        meent_ok(&[
            "member",
            "apply",
            "--key",
            s(&k),
            "--as",
            id,
            "--name",
            name,
            "--kind",
            kind,
            "--legal-form",
            legal,
            "--server",
            &self.url,
        ]);
        self.keys.insert(id.to_string(), k);
        self.as_member(REGISTRAR, &["member", "admit", "--member", id]);
    }

    /// The key file of a member.
    pub fn key(&self, id: &str) -> &Path {
        self.keys.get(id).unwrap_or_else(|| panic!("no key for {id}"))
    }

    /// `meent ARGS --key K --as ID --server URL`, which must succeed; its stdout.
    pub fn as_member(&self, id: &str, args: &[&str]) -> String {
        let mut v: Vec<&str> = args.to_vec();
        let key = s(self.key(id)).to_string();
        v.extend(["--key", &key, "--as", id, "--server", &self.url]);
        meent_ok(&v)
    }

    /// Like [`Scene::as_member`] with `--json`: the server's answer.
    pub fn as_member_json(&self, id: &str, args: &[&str]) -> Value {
        let mut v: Vec<&str> = args.to_vec();
        v.push("--json");
        let out = self.as_member(id, &v);
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
    }

    /// GET a path, which must answer 200.
    pub fn get(&self, path: &str) -> Value {
        let (status, v) = get(&self.http, &self.url, path);
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }

    /// The fund's read.
    pub fn fund(&self, id: &str) -> Value {
        self.get(&format!("/v1/funds/{id}"))
    }

    /// The fund's balances as strings.
    pub fn balances(&self, id: &str) -> BTreeMap<String, String> {
        let f = self.fund(id);
        f["balances"]
            .as_object()
            .expect("balances")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
            .collect()
    }

    /// Wait until the proposal is closed (the server closes due proposals every second).
    pub fn wait_closed(&self, proposal: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let p = self.get(&format!("/v1/proposals/{proposal}"));
            if p["status"] == "closed" {
                return p;
            }
            assert!(Instant::now() < deadline, "proposal {proposal} did not close: {p}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Write a file in the scene's directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, text).expect("write file");
        p
    }
}

/// A path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `meent reconcile` with these arguments: (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out: Output = meent(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One booked CAMT.053 entry.
#[derive(Clone, Default)]
pub struct Line {
    /// The bank's own reference (`AcctSvcrRef`).
    pub bank_ref: String,
    /// Amount, e.g. "250.00" (written as given).
    pub amount: String,
    /// Money in (CRDT) or out (DBIT).
    pub credit: bool,
    /// Booking date, YYYY-MM-DD.
    pub day: String,
    /// `Refs/EndToEndId`.
    pub e2e: Option<String>,
    /// `RmtInf/Ustrd`.
    pub text: Option<String>,
    /// The counterparty's name.
    pub name: Option<String>,
    /// The counterparty's IBAN.
    pub iban: Option<String>,
    /// The amount's currency (EUR when None).
    pub currency: Option<String>,
}

/// A credit line.
pub fn credit(bank_ref: &str, amount: &str, day: &str, text: &str) -> Line {
    Line {
        bank_ref: bank_ref.into(),
        amount: amount.into(),
        credit: true,
        day: day.into(),
        text: Some(text.into()),
        ..Line::default()
    }
}

/// A debit line with an end-to-end id.
pub fn debit(bank_ref: &str, amount: &str, day: &str, e2e: &str) -> Line {
    Line {
        bank_ref: bank_ref.into(),
        amount: amount.into(),
        credit: false,
        day: day.into(),
        e2e: Some(e2e.into()),
        ..Line::default()
    }
}

fn bal(code: &str, amount: &str, day: &str) -> String {
    let (ind, abs) = match amount.strip_prefix('-') {
        Some(a) => ("DBIT", a),
        None => ("CRDT", amount),
    };
    format!(
        "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{abs}</Amt><CdtDbtInd>{ind}</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>\n"
    )
}

/// The fund's account in the generated statements.
pub const ACCOUNT: &str = "NL91ABNA0417164300";

/// A camt.053.001.02 statement with the given booked balances and entries.
pub fn camt(id: &str, from: &str, to: &str, opening: &str, closing: &str, lines: &[Line]) -> String {
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">\n<BkToCstmrStmt>\n");
    x.push_str(&format!("<GrpHdr><MsgId>MSG-{id}</MsgId><CreDtTm>{to}T20:00:00</CreDtTm></GrpHdr>\n<Stmt>\n<Id>{id}</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>{to}T20:00:00</CreDtTm>\n"));
    x.push_str(&format!("<FrToDt><FrDtTm>{from}T00:00:00</FrDtTm><ToDtTm>{to}T23:59:59</ToDtTm></FrToDt>\n"));
    x.push_str(&format!("<Acct><Id><IBAN>{ACCOUNT}</IBAN></Id><Ccy>EUR</Ccy><Svcr><FinInstnId><BIC>ABNANL2A</BIC></FinInstnId></Svcr></Acct>\n"));
    x.push_str(&bal("OPBD", opening, from));
    x.push_str(&bal("CLBD", closing, to));
    for l in lines {
        let cd = if l.credit { "CRDT" } else { "DBIT" };
        let ccy = l.currency.as_deref().unwrap_or("EUR");
        x.push_str(&format!(
            "<Ntry>\n<Amt Ccy=\"{ccy}\">{}</Amt><CdtDbtInd>{cd}</CdtDbtInd><Sts>BOOK</Sts>\n",
            l.amount
        ));
        x.push_str(&format!(
            "<BookgDt><Dt>{}</Dt></BookgDt><ValDt><Dt>{}</Dt></ValDt><AcctSvcrRef>{}</AcctSvcrRef>\n",
            l.day, l.day, l.bank_ref
        ));
        x.push_str("<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>\n<NtryDtls><TxDtls>\n");
        if let Some(e) = &l.e2e {
            x.push_str(&format!("<Refs><EndToEndId>{e}</EndToEndId></Refs>\n"));
        }
        if l.name.is_some() || l.iban.is_some() {
            let role = if l.credit { "Dbtr" } else { "Cdtr" };
            x.push_str("<RltdPties>");
            if let Some(n) = &l.name {
                x.push_str(&format!("<{role}><Nm>{n}</Nm></{role}>"));
            }
            if let Some(i) = &l.iban {
                x.push_str(&format!("<{role}Acct><Id><IBAN>{i}</IBAN></Id></{role}Acct>"));
            }
            x.push_str("</RltdPties>\n");
        }
        if let Some(t) = &l.text {
            x.push_str(&format!("<RmtInf><Ustrd>{t}</Ustrd></RmtInf>\n"));
        }
        x.push_str("</TxDtls></NtryDtls>\n</Ntry>\n");
    }
    x.push_str("</Stmt>\n</BkToCstmrStmt>\n</Document>\n");
    x
}

/// Today (UTC) shifted by `days`, as YYYY-MM-DD.
pub fn day(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).format("%Y-%m-%d").to_string()
}

/// Run `tool args…` if it is installed: Some(output), or None with a printed notice.
pub fn run_tool(tool: &str, args: &[&str]) -> Option<Output> {
    match std::process::Command::new(tool).args(args).output() {
        Ok(o) => Some(o),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!(
                "NOTICE: {tool} is not installed; skipping its check (apt-get install hledger / pip install beancount)"
            );
            None
        }
        Err(e) => panic!("cannot run {tool}: {e}"),
    }
}

/// Check a journal with hledger and beancount when they are installed.
pub fn check_journals(hledger_file: &Path, beancount_file: &Path) {
    if let Some(o) = run_tool("hledger", &["-f", s(hledger_file), "check", "-s", "ordereddates"]) {
        assert!(
            o.status.success(),
            "hledger check failed:\n{}\n{}",
            String::from_utf8_lossy(&o.stderr),
            std::fs::read_to_string(hledger_file).unwrap_or_default()
        );
    }
    if let Some(o) = run_tool("bean-check", &[s(beancount_file)]) {
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "bean-check failed:\n{}\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            std::fs::read_to_string(beancount_file).unwrap_or_default()
        );
    }
}
