//! A charter's own rules (SPEC §4.2), checked when a fund is created and when a
//! charter proposal is made.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

use crate::entry::Charter;
use crate::error::{Code, Refusal};
use crate::limits::{VOTING_PERIOD_SECONDS_MAX, VOTING_PERIOD_SECONDS_MIN};
use crate::register::Register;

/// Check a charter: admitted, distinct treasurers; `1 <= approvals_required <
/// treasurers` (so a payout to a treasurer can be requested and approved by the others); a voting period within the limits; a threshold that can be
/// passed (yes / (yes + no) must be strictly greater, so 1 never passes).
pub fn validate(c: &Charter, register: &Register) -> Result<(), Refusal> {
    if c.approvals_required == 0 {
        return Err(Refusal::new(
            Code::ApprovalsRequiredZero,
            "approvals_required must be at least 1: a payout needs at least one treasurer",
        ));
    }
    let mut seen = BTreeSet::new();
    for t in &c.treasurers {
        if !seen.insert(t) {
            return Err(Refusal::new(Code::DuplicateTreasurer, format!("treasurer {t} is named twice")));
        }
        if !register.is_admitted(t) {
            return Err(Refusal::new(
                Code::UnknownTreasurer,
                format!("treasurer {t} is not an admitted member of the register"),
            ));
        }
    }
    if c.approvals_required as usize > c.treasurers.len() {
        return Err(Refusal::new(
            Code::ApprovalsAboveTreasurers,
            format!(
                "approvals_required is {} but the charter names {} treasurers; no payout could ever be approved",
                c.approvals_required,
                c.treasurers.len()
            ),
        ));
    }
    if c.treasurers.len() < c.approvals_required as usize + 1 {
        return Err(Refusal::new(
            Code::TooFewTreasurers,
            format!(
                "approvals_required is {} but the charter names {} treasurers; it needs at least {} so that every treasurer can be paid by the others",
                c.approvals_required,
                c.treasurers.len(),
                c.approvals_required as usize + 1
            ),
        ));
    }
    if !(VOTING_PERIOD_SECONDS_MIN..=VOTING_PERIOD_SECONDS_MAX).contains(&c.voting_period_seconds) {
        return Err(Refusal::new(
            Code::BadVotingPeriod,
            format!("voting_period_seconds is {}; it must be between {VOTING_PERIOD_SECONDS_MIN} and {VOTING_PERIOD_SECONDS_MAX}", c.voting_period_seconds),
        ));
    }
    if c.threshold.as_decimal() >= Decimal::ONE {
        return Err(Refusal::new(
            Code::ThresholdUnreachable,
            format!("threshold {} can never be passed: yes / (yes + no) must be strictly greater", c.threshold),
        ));
    }
    let Some(amend) = &c.amend_threshold else { return Ok(()) };
    if amend.as_decimal() >= Decimal::ONE {
        return Err(Refusal::new(
            Code::ThresholdUnreachable,
            format!("amend_threshold {amend} can never be passed: yes / (yes + no) must be strictly greater"),
        ));
    }
    if amend.as_decimal() < c.threshold.as_decimal() {
        return Err(Refusal::new(
            Code::AmendThresholdBelowThreshold,
            format!(
                "amend_threshold {amend} is below threshold {}; changing the agreement must not be easier than a grant",
                c.threshold
            ),
        ));
    }
    Ok(())
}
