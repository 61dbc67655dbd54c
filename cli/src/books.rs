//! A fund's books as the treasurer's tools read them: its contributions and
//! disbursements with their status, its recorded reconciliations and its
//! balances, from a running server (`GET /v1/funds/{id}` and `/flows`) or from
//! a data directory (every record replayed and verified, as `meent verify`).
//!
//! Both sources give the ledger's own [`FundBooks`] (`ledger::books`), so the
//! reconciliation and the exports see exactly what the domain computed; this
//! module only reads.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::anyhow;
use chrono::NaiveDate;
use ledger::audit::Auditor;
use ledger::funds::{Balances, ContributionState, DisbursementState, FundStatus, ReconciliationRecord};
use ledger::ids::{FundId, Seq};
use ledger::record::Record;
use ledger::store::Store;
use serde::Deserialize;
use serde_json::Value;

use crate::client::Client;
use crate::cmd::source::{claimed_size, LogSource};
use crate::exit::{CmdError, CmdResult, InputContext};
use crate::progress;

pub use ledger::books::FundBooks;

#[derive(Deserialize)]
struct FundRead {
    id: FundId,
    name: String,
    status: FundStatus,
    treasurers: Vec<String>,
    balances: Balances,
    #[serde(default)]
    reconciliations: Vec<ReconciliationRecord>,
}

#[derive(Deserialize)]
struct FlowsRead {
    contributions: Vec<ContributionState>,
    disbursements: Vec<DisbursementState>,
    #[serde(default)]
    incomes: Vec<ledger::funds::IncomeState>,
}

fn fund_id(fund: &str) -> CmdResult<FundId> {
    fund.parse().input_ctx(format!("--fund {fund}"))
}

/// Read a fund's books from a server. With `with_dates`, also fetch the records that
/// executed disbursements (one request each) for their dates.
pub fn from_server(client: &Client, fund: &str, with_dates: bool) -> CmdResult<FundBooks> {
    let id = fund_id(fund)?;
    let f = client.get_json(&format!("/v1/funds/{id}"))?;
    let flows = client.get_json(&format!("/v1/funds/{id}/flows"))?;
    let f: FundRead = serde_json::from_value(f)
        .map_err(|e| CmdError::io(anyhow!("the server's /v1/funds/{id} is not what this meent understands: {e}")))?;
    let flows: FlowsRead = serde_json::from_value(flows).map_err(|e| {
        CmdError::io(anyhow!("the server's /v1/funds/{id}/flows is not what this meent understands: {e}"))
    })?;
    let mut books = FundBooks {
        id: f.id,
        name: f.name,
        status: f.status,
        treasurers: f.treasurers,
        balances: f.balances,
        contributions: flows.contributions,
        disbursements: flows.disbursements,
        reconciliations: f.reconciliations,
        incomes: flows.incomes,
        executed_dates: BTreeMap::new(),
    };
    if with_dates {
        for seq in books.executed_seqs() {
            let v = client.get_json(&format!("/v1/entries/{seq}"))?;
            books.executed_dates.insert(seq, record_date(v, seq)?);
        }
    }
    Ok(books)
}

/// Read a fund's books from a data directory: every record is replayed and checked
/// against the signed checkpoint first (the server must not be running on it).
pub fn from_data(dir: &Path, fund: &str) -> CmdResult<FundBooks> {
    let id = fund_id(fund)?;
    let source = LogSource::from_args(Some(dir), None, None)?;
    let note = source.checkpoint(None)?;
    let size = claimed_size(&note)?;
    let bar = progress::bar(size, "reading");
    let mut auditor = Auditor::new();
    let result = source.for_each_chunk(size, |chunk| {
        auditor.push(chunk).map_err(|e| CmdError::failed(anyhow!("{}: {e}", dir.display())))?;
        bar.set_position(auditor.size());
        Ok(())
    });
    bar.finish_and_clear();
    result?;
    let report = auditor.finish(&note, None).map_err(|e| CmdError::failed(anyhow!("{}: {e}", dir.display())))?;
    let mut books = FundBooks::from_state(&report.state, &id)
        .ok_or_else(|| CmdError::refused(anyhow!("no fund {id} in {}", dir.display())))?;
    if let LogSource::Data(store) = &source {
        for seq in books.executed_seqs() {
            let bytes = store
                .record(seq)
                .map_err(|e| CmdError::io(anyhow!("record {seq}: {e}")))?
                .ok_or_else(|| CmdError::failed(anyhow!("record {seq} is missing from {}", dir.display())))?;
            let rec = Record::from_leaf_bytes(&bytes).map_err(|e| CmdError::failed(anyhow!("record {seq}: {e}")))?;
            books.executed_dates.insert(seq, rec.received_at.date());
        }
    }
    Ok(books)
}

fn record_date(v: Value, seq: Seq) -> CmdResult<NaiveDate> {
    let rec = Record::from_value(v).map_err(|e| CmdError::io(anyhow!("the server's record {seq}: {e}")))?;
    Ok(rec.received_at.date())
}
