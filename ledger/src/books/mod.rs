//! A fund's books as a treasurer, an accountant or the public site reads them:
//! its contributions and disbursements with their status, its recorded
//! reconciliations and its balances ([`FundBooks`]), built from the [`State`]
//! ([`FundBooks::from_state`]) or from the server's reads of it; and what is
//! computed from them, pure and without I/O:
//!
//! * [`desk`]: the treasurer's desk — a statement file joined into one
//!   statement with its own check, matched against the books
//!   (`bank::reconcile`), the balance agreement, and the `reconciliation`
//!   entry that follows from it;
//! * [`journal`]: a CSV of the flows, and a double-entry journal in hledger or
//!   beancount syntax.
//!
//! The definitions are in `docs/TREASURER.md`.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::funds::{Balances, ContributionState, DisbursementState, FundStatus, IncomeState, ReconciliationRecord};
use crate::ids::{EntryId, FundId, Seq};
use crate::state::State;

pub mod desk;
pub mod journal;

/// Everything about one fund that reconciliation and exports need.
#[derive(Debug, Clone)]
pub struct FundBooks {
    /// The fund.
    pub id: FundId,
    /// Its name.
    pub name: String,
    /// Active or dissolved.
    pub status: FundStatus,
    /// The charter's treasurers.
    pub treasurers: Vec<String>,
    /// Its balances (SPEC §4.3).
    pub balances: Balances,
    /// Contributions, in log order.
    pub contributions: Vec<ContributionState>,
    /// Disbursements, in log order.
    pub disbursements: Vec<DisbursementState>,
    /// Recorded reconciliations, in log order.
    pub reconciliations: Vec<ReconciliationRecord>,
    /// Incomes (money from outside the members), in log order.
    pub incomes: Vec<IncomeState>,
    /// The `received_at` date of the records that executed a disbursement
    /// (`executed_seq`), for the journals. The state does not keep them: the
    /// reader fills them from the records ([`FundBooks::executed_seqs`]).
    pub executed_dates: BTreeMap<Seq, NaiveDate>,
}

impl FundBooks {
    /// The books of fund `id` in `state`, or `None` when the state has no such fund.
    /// `executed_dates` is left empty.
    pub fn from_state(state: &State, id: &FundId) -> Option<FundBooks> {
        let funds = &state.funds;
        let f = funds.fund(id)?;
        Some(FundBooks {
            id: f.id.clone(),
            name: f.name.clone(),
            status: f.status,
            treasurers: f.charter.treasurers.iter().map(|t| t.to_string()).collect(),
            balances: f.balances,
            contributions: funds.contributions_of(f).cloned().collect(),
            disbursements: f.disbursements.iter().filter_map(|d| funds.disbursements.get(d)).cloned().collect(),
            reconciliations: f.reconciliations.clone(),
            incomes: f.incomes.iter().filter_map(|i| funds.incomes.get(i)).cloned().collect(),
            executed_dates: BTreeMap::new(),
        })
    }

    /// A recorded reconciliation by entry id.
    pub fn reconciliation(&self, id: &EntryId) -> Option<&ReconciliationRecord> {
        self.reconciliations.iter().find(|r| &r.id == id)
    }

    /// The records whose dates [`FundBooks::executed_dates`] wants: those that
    /// executed a disbursement, in log order.
    pub fn executed_seqs(&self) -> Vec<Seq> {
        self.disbursements.iter().filter_map(|d| d.executed_seq).collect()
    }
}
