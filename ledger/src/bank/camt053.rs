//! ISO 20022 `camt.053` (bank-to-customer statement) reader.
//!
//! The version is taken from the root element's namespace,
//! `urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN`: NN from 02 to 13 is read (the parts used
//! here have the same structure in all of them; the differences handled are `Sts` as text in
//! 02 and as `Sts/Cd` from 08 on, and party names as `Dbtr/Nm` or `Dbtr/Pty/Nm`); any other
//! namespace is refused with [`ErrorKind::UnsupportedVersion`] or [`ErrorKind::NotCamt053`].
//!
//! The document is read with quick-xml into a small element tree (an arena, so that no input
//! can make the reader recurse), then each `Stmt` becomes one [`Statement`]. Errors carry the
//! element path below `BkToCstmrStmt`, e.g. `Stmt[1]/Ntry[3]/Amt`, with line and byte offset.
//!
//! Rules applied:
//! * only entries with status `BOOK` become lines; others are counted in
//!   [`Statement::skipped_unbooked`];
//! * an entry with zero or one `TxDtls` is one line with the entry's amount; an entry with
//!   several `TxDtls` (a batch) is one line per detail, the detail amount taken from
//!   `TxDtls/Amt`, else `AmtDtls/TxAmt/Amt`, else `AmtDtls/InstdAmt/Amt`, and the details
//!   must add up to the entry amount ([`ErrorKind::BatchSum`]);
//! * every amount used (balances OPBD/PRCD/CLBD, entry and batch detail amounts, `Acct/Ccy`)
//!   must be in EUR; other balance types (OPAV, CLAV, …) are ignored;
//! * the same `AcctSvcrRef` on two entries of one statement is refused
//!   ([`ErrorKind::DuplicateReference`]).

use chrono::NaiveDate;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use rust_decimal::Decimal;

use super::{
    assign_keys, check_size, clean_ref, clean_text, normalize_iban, parse_amount, quote, Balance, BankError, BankLine,
    Direction, ErrorKind, Format, Position, References, Statement, BANK_LINES_MAX, CURRENCY, XML_DEPTH_MAX,
};

const NS_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.";

/// Element names shown with their index in error paths.
const REPEATED: &[&str] = &["Stmt", "Ntry", "Bal", "NtryDtls", "TxDtls", "Ustrd", "Strd"];

/// Read a camt.053 document: one [`Statement`] per `Stmt`, in file order.
pub fn parse(input: &[u8]) -> Result<Vec<Statement>, BankError> {
    check_size(input)?;
    let text = std::str::from_utf8(input).map_err(|e| {
        let offset = e.valid_up_to();
        let line = input.get(..offset).map_or(1, |p| p.iter().filter(|b| **b == b'\n').count() + 1);
        BankError::new(String::new(), Some(Position { line, offset }), ErrorKind::NotUtf8)
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = input.len() - text.len();
    let doc = Doc::read(text, bom)?;
    let version = doc.version()?;
    let root = 0;
    let msg =
        doc.child(root, "BkToCstmrStmt").ok_or_else(|| doc.err(root, ErrorKind::Missing("BkToCstmrStmt".into())))?;
    let mut statements = Vec::new();
    let mut total_lines = 0usize;
    for stmt in doc.children(msg, "Stmt") {
        let s = doc.statement(stmt, version)?;
        total_lines = total_lines.saturating_add(s.lines.len());
        if total_lines > BANK_LINES_MAX {
            return Err(doc.err(stmt, ErrorKind::TooManyLines { max: BANK_LINES_MAX }));
        }
        statements.push(s);
    }
    if statements.is_empty() {
        return Err(doc.err(msg, ErrorKind::NoStatement));
    }
    Ok(statements)
}

struct Node {
    name: String,
    parent: usize,
    children: Vec<usize>,
    text: String,
    ccy: Option<String>,
    offset: usize,
    index: usize,
}

struct Doc {
    nodes: Vec<Node>,
    newlines: Vec<usize>,
    namespace: String,
}

impl Doc {
    fn read(text: &str, base: usize) -> Result<Doc, BankError> {
        let newlines: Vec<usize> =
            text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + base).collect();
        let mut doc = Doc { nodes: Vec::new(), newlines, namespace: String::new() };
        let mut reader = NsReader::from_str(text);
        let mut stack: Vec<usize> = Vec::new();
        loop {
            let before = reader.buffer_position() as usize + base;
            let event = match reader.read_resolved_event() {
                Ok((ns, ev)) => {
                    if stack.is_empty() {
                        if let (ResolveResult::Bound(n), Event::Start(_) | Event::Empty(_)) = (&ns, &ev) {
                            doc.namespace = n.into_inner().to_string();
                        }
                    }
                    ev
                }
                Err(e) => return Err(doc.read_error(e, &stack, reader.error_position() as usize + base)),
            };
            if let Event::Eof = event {
                if !stack.is_empty() {
                    return Err(doc.eof_error(&stack, text.len() + base));
                }
                break;
            }
            doc.event(event, &mut stack, before)?;
        }
        if doc.nodes.is_empty() {
            return Err(BankError::new(String::new(), None, ErrorKind::NotCamt053("no XML element".into())));
        }
        Ok(doc)
    }

    /// The error for a failed read at `offset`: a truncated file names the open elements.
    fn read_error(&self, e: quick_xml::Error, stack: &[usize], offset: usize) -> BankError {
        let eof = match &e {
            quick_xml::Error::Syntax(s) => !matches!(s, quick_xml::errors::SyntaxError::InvalidBangMarkup),
            quick_xml::Error::IllFormed(quick_xml::errors::IllFormedError::MissingEndTag(_)) => true,
            _ => false,
        };
        if eof && !stack.is_empty() {
            return self.eof_error(stack, offset);
        }
        BankError::new(self.open_path(stack), Some(self.position(offset)), ErrorKind::Xml(e.to_string()))
    }

    /// One XML event (not the end of the file) into the tree: elements, their text.
    fn event(&mut self, event: Event<'_>, stack: &mut Vec<usize>, before: usize) -> Result<(), BankError> {
        match event {
            Event::Start(_) | Event::Empty(_) if stack.is_empty() && !self.nodes.is_empty() => {
                return Err(BankError::new(
                    String::new(),
                    Some(self.position(before)),
                    ErrorKind::Xml("more than one root element".into()),
                ));
            }
            Event::Start(e) => {
                if stack.len() >= XML_DEPTH_MAX {
                    return Err(BankError::new(
                        self.open_path(stack),
                        Some(self.position(before)),
                        ErrorKind::TooDeep { max: XML_DEPTH_MAX },
                    ));
                }
                let id = self.push(&e, stack.last().copied(), before)?;
                stack.push(id);
            }
            Event::Empty(e) => {
                self.push(&e, stack.last().copied(), before)?;
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => self.append(stack, &t.xml10_content()),
            Event::CData(t) => self.append(stack, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let ch = self.general_ref(&r, stack, before)?;
                self.append(stack, &ch);
            }
            Event::Eof | Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        Ok(())
    }

    /// Text for the element being read (text outside the root is dropped).
    fn append(&mut self, stack: &[usize], text: &str) {
        if let Some(&cur) = stack.last() {
            self.nodes[cur].text.push_str(text);
        }
    }

    /// A character reference or a predefined entity; any other entity is refused, never
    /// expanded.
    fn general_ref(
        &self,
        r: &quick_xml::events::BytesRef<'_>,
        stack: &[usize],
        before: usize,
    ) -> Result<String, BankError> {
        let here = |kind: ErrorKind| BankError::new(self.open_path(stack), Some(self.position(before)), kind);
        match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            Ok(None) => match quick_xml::escape::resolve_predefined_entity(r) {
                Some(s) => Ok(s.to_string()),
                None => Err(here(ErrorKind::Xml(format!("unknown entity &{};", quote(r))))),
            },
            Err(e) => Err(here(ErrorKind::Xml(e.to_string()))),
        }
    }

    fn push(
        &mut self,
        e: &quick_xml::events::BytesStart<'_>,
        parent: Option<usize>,
        offset: usize,
    ) -> Result<usize, BankError> {
        let name = e.local_name().into_inner().to_string();
        let mut ccy = None;
        if name == "Amt" {
            for attr in e.attributes() {
                let attr = attr.map_err(|err| {
                    BankError::new(
                        self.path_of_parent(parent, &name),
                        Some(self.position(offset)),
                        ErrorKind::Xml(err.to_string()),
                    )
                })?;
                if attr.key.local_name().into_inner() == "Ccy" {
                    let v = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|err| {
                        BankError::new(
                            self.path_of_parent(parent, &name),
                            Some(self.position(offset)),
                            ErrorKind::Xml(err.to_string()),
                        )
                    })?;
                    ccy = Some(v.trim().to_string());
                }
            }
        }
        let id = self.nodes.len();
        let index = match parent {
            Some(p) => 1 + self.nodes[p].children.iter().filter(|&&c| self.nodes[c].name == name).count(),
            None => 1,
        };
        self.nodes.push(Node {
            name,
            parent: parent.unwrap_or(usize::MAX),
            children: Vec::new(),
            text: String::new(),
            ccy,
            offset,
            index,
        });
        if let Some(p) = parent {
            self.nodes[p].children.push(id);
        }
        Ok(id)
    }

    fn eof_error(&self, stack: &[usize], offset: usize) -> BankError {
        let inside = match stack.last() {
            Some(&id) => self.path(id),
            None => String::new(),
        };
        let inside = if inside.is_empty() {
            stack.last().map(|&id| self.nodes[id].name.clone()).unwrap_or_default()
        } else {
            inside
        };
        BankError::new(String::new(), Some(self.position(offset)), ErrorKind::UnexpectedEof { inside })
    }

    fn open_path(&self, stack: &[usize]) -> String {
        stack.last().map(|&id| self.path(id)).unwrap_or_default()
    }

    fn path_of_parent(&self, parent: Option<usize>, name: &str) -> String {
        match parent.map(|p| self.path(p)) {
            Some(p) if !p.is_empty() => format!("{p}/{name}"),
            _ => name.to_string(),
        }
    }

    fn position(&self, offset: usize) -> Position {
        let line = self.newlines.partition_point(|&nl| nl < offset) + 1;
        Position { line, offset }
    }

    /// Path below `BkToCstmrStmt`, e.g. `Stmt[1]/Ntry[3]/Amt`. The root and its child are left
    /// out; for them the plain name is given.
    fn path(&self, id: usize) -> String {
        let mut parts = Vec::new();
        let mut cur = id;
        while cur != usize::MAX {
            let n = &self.nodes[cur];
            // The root (`Document`, node 0) and its child (`BkToCstmrStmt`) are left out.
            if cur == 0 || n.parent == 0 {
                if parts.is_empty() {
                    parts.push(n.name.clone());
                }
                break;
            }
            if REPEATED.contains(&n.name.as_str()) {
                parts.push(format!("{}[{}]", n.name, n.index));
            } else {
                parts.push(n.name.clone());
            }
            cur = n.parent;
        }
        parts.reverse();
        parts.join("/")
    }

    fn err(&self, id: usize, kind: ErrorKind) -> BankError {
        BankError::new(self.path(id), Some(self.position(self.nodes[id].offset)), kind)
    }

    fn missing(&self, id: usize, what: &str) -> BankError {
        self.err(id, ErrorKind::Missing(what.to_string()))
    }

    fn child(&self, id: usize, name: &str) -> Option<usize> {
        self.nodes[id].children.iter().copied().find(|&c| self.nodes[c].name == name)
    }

    fn children<'a>(&'a self, id: usize, name: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.nodes[id].children.iter().copied().filter(move |&c| self.nodes[c].name == name)
    }

    /// Follow a path of child names.
    fn at(&self, id: usize, path: &[&str]) -> Option<usize> {
        path.iter().try_fold(id, |cur, name| self.child(cur, name))
    }

    fn text(&self, id: usize) -> &str {
        self.nodes[id].text.trim()
    }

    fn text_at(&self, id: usize, path: &[&str]) -> Option<&str> {
        self.at(id, path).map(|n| self.text(n)).filter(|t| !t.is_empty())
    }

    fn required(&self, id: usize, name: &str) -> Result<usize, BankError> {
        self.child(id, name).ok_or_else(|| self.missing(id, name))
    }

    fn version(&self) -> Result<u8, BankError> {
        let root = &self.nodes[0];
        let ns = self.namespace.as_str();
        let Some(rest) = ns.strip_prefix(NS_PREFIX) else {
            let what = if ns.is_empty() {
                format!("root element {} has no namespace", quote(&root.name))
            } else {
                format!("namespace {}", quote(ns))
            };
            return Err(self.err(0, ErrorKind::NotCamt053(what)));
        };
        if root.name != "Document" {
            return Err(self.err(0, ErrorKind::NotCamt053(format!("root element {}", quote(&root.name)))));
        }
        let version = rest
            .strip_prefix("001.")
            .filter(|v| v.len() == 2 && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u8>().ok())
            .filter(|v| (2..=13).contains(v));
        version.ok_or_else(|| self.err(0, ErrorKind::UnsupportedVersion { version: quote(rest) }))
    }

    /// An `Amt` element: EUR, non-negative, at most two decimals.
    fn amount(&self, id: usize) -> Result<Decimal, BankError> {
        let n = &self.nodes[id];
        match n.ccy.as_deref() {
            Some(CURRENCY) => {}
            Some(other) => return Err(self.err(id, ErrorKind::Currency { found: quote(other) })),
            None => return Err(self.err(id, ErrorKind::Missing("Ccy attribute".into()))),
        }
        parse_amount(self.text(id), '.', false).map_err(|k| self.err(id, k))
    }

    fn indicator(&self, parent: usize) -> Result<Direction, BankError> {
        let id = self.required(parent, "CdtDbtInd")?;
        match self.text(id) {
            "CRDT" => Ok(Direction::Credit),
            "DBIT" => Ok(Direction::Debit),
            other => Err(self.err(id, ErrorKind::BadIndicator(quote(other)))),
        }
    }

    /// A `…Dt` choice element: `Dt` or `DtTm`, of which the date part is taken as written.
    fn date_choice(&self, id: usize) -> Result<NaiveDate, BankError> {
        if let Some(dt) = self.child(id, "Dt") {
            return self.date(dt, false);
        }
        if let Some(dt) = self.child(id, "DtTm") {
            return self.date(dt, true);
        }
        Err(self.missing(id, "Dt or DtTm"))
    }

    fn date(&self, id: usize, with_time: bool) -> Result<NaiveDate, BankError> {
        let t = self.text(id);
        let bad = || self.err(id, ErrorKind::BadDate(quote(t)));
        let day = t.get(..10).ok_or_else(bad)?;
        let rest = t.get(10..).ok_or_else(bad)?;
        let rest_ok = if with_time {
            rest.starts_with('T')
        } else {
            rest.is_empty() || rest == "Z" || rest.starts_with('+') || rest.starts_with('-')
        };
        if !rest_ok {
            return Err(bad());
        }
        NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| bad())
    }

    fn balance(&self, bal: usize) -> Result<Balance, BankError> {
        let amt = self.required(bal, "Amt")?;
        let amount = self.amount(amt)?;
        let direction = if amount.is_zero() && self.child(bal, "CdtDbtInd").is_none() {
            Direction::Credit
        } else {
            self.indicator(bal)?
        };
        let dt = self.required(bal, "Dt")?;
        let date = self.date_choice(dt)?;
        let signed = match direction {
            Direction::Credit => amount,
            Direction::Debit if amount.is_zero() => amount,
            Direction::Debit => -amount,
        };
        Ok(Balance { amount: signed, date })
    }

    fn statement(&self, stmt: usize, version: u8) -> Result<Statement, BankError> {
        let id_node = self.required(stmt, "Id")?;
        let id = self.text(id_node).to_string();
        if id.is_empty() {
            return Err(self.err(id_node, ErrorKind::Missing("statement id".into())));
        }
        let sequence =
            self.text_at(stmt, &["LglSeqNb"]).or_else(|| self.text_at(stmt, &["ElctrncSeqNb"])).map(str::to_string);
        let acct = self.required(stmt, "Acct")?;
        let acct_id = self.required(acct, "Id")?;
        let account = self
            .text_at(acct_id, &["IBAN"])
            .or_else(|| self.text_at(acct_id, &["Othr", "Id"]))
            .ok_or_else(|| self.missing(acct_id, "IBAN or Othr/Id"))?;
        let account = normalize_iban(account).unwrap_or_else(|| account.to_string());
        if let Some(ccy) = self.child(acct, "Ccy") {
            let c = self.text(ccy);
            if c != CURRENCY {
                return Err(self.err(ccy, ErrorKind::Currency { found: quote(c) }));
            }
        }

        let (mut opbd, mut prcd, mut clbd) = (None, None, None);
        for bal in self.children(stmt, "Bal") {
            let tp = self.required(bal, "Tp")?;
            let code = self
                .text_at(tp, &["CdOrPrtry", "Cd"])
                .or_else(|| self.text_at(tp, &["CdOrPrtry", "Prtry"]))
                .ok_or_else(|| self.missing(tp, "CdOrPrtry/Cd"))?;
            let slot = match code {
                "OPBD" => &mut opbd,
                "PRCD" => &mut prcd,
                "CLBD" => &mut clbd,
                _ => continue,
            };
            if slot.is_some() {
                return Err(self.err(bal, ErrorKind::DuplicateBalance(code.to_string())));
            }
            *slot = Some(self.balance(bal)?);
        }
        let opening =
            opbd.or(prcd).ok_or_else(|| self.missing(stmt, "opening booked balance (Bal with OPBD or PRCD)"))?;
        let closing = clbd.ok_or_else(|| self.missing(stmt, "closing booked balance (Bal with CLBD)"))?;
        let (period_from, period_to) = match self.child(stmt, "FrToDt") {
            Some(ft) => {
                let from = self.required(ft, "FrDtTm")?;
                let to = self.required(ft, "ToDtTm")?;
                (self.date(from, true)?, self.date(to, true)?)
            }
            None => (opening.date, closing.date),
        };

        let mut lines = Vec::new();
        let mut entry_of = Vec::new();
        let mut ref_paths = Vec::new();
        let mut skipped_unbooked = 0;
        for (n, ntry) in self.children(stmt, "Ntry").enumerate() {
            let sts = self.required(ntry, "Sts")?;
            let status =
                self.text_at(sts, &["Cd"]).or_else(|| self.text_at(sts, &["Prtry"])).unwrap_or_else(|| self.text(sts));
            if status != "BOOK" {
                skipped_unbooked += 1;
                continue;
            }
            let before = lines.len();
            self.entry(ntry, &mut lines)?;
            if lines.len() > BANK_LINES_MAX {
                return Err(self.err(ntry, ErrorKind::TooManyLines { max: BANK_LINES_MAX }));
            }
            let ref_node = self.child(ntry, "AcctSvcrRef").unwrap_or(ntry);
            for _ in before..lines.len() {
                entry_of.push(n);
                ref_paths.push((self.path(ref_node), Some(self.position(self.nodes[ref_node].offset))));
            }
        }
        assign_keys(&account, &mut lines, &entry_of, &ref_paths)?;
        Ok(Statement {
            format: Format::Camt053 { version },
            id,
            sequence,
            account,
            currency: CURRENCY.to_string(),
            period_from,
            period_to,
            opening,
            closing,
            lines,
            skipped_unbooked,
        })
    }

    fn source(&self, id: usize) -> String {
        format!("{} (line {})", self.path(id), self.position(self.nodes[id].offset).line)
    }

    fn entry(&self, ntry: usize, out: &mut Vec<BankLine>) -> Result<(), BankError> {
        let amt = self.required(ntry, "Amt")?;
        let amount = self.amount(amt)?;
        let direction = self.indicator(ntry)?;
        let reversal = match self.child(ntry, "RvslInd") {
            None => false,
            Some(r) => match self.text(r) {
                "true" | "1" => true,
                "false" | "0" => false,
                other => {
                    return Err(self.err(r, ErrorKind::Invalid(format!("{:?} is not true or false", quote(other)))))
                }
            },
        };
        let bookg = self.required(ntry, "BookgDt")?;
        let booking_date = self.date_choice(bookg)?;
        let value_date = match self.child(ntry, "ValDt") {
            Some(v) => Some(self.date_choice(v)?),
            None => None,
        };
        let entry_refs = References {
            acct_svcr_ref: self.text_at(ntry, &["AcctSvcrRef"]).and_then(clean_ref),
            ntry_ref: self.text_at(ntry, &["NtryRef"]).and_then(clean_ref),
            ..References::default()
        };
        let entry_info = self.text_at(ntry, &["AddtlNtryInf"]).and_then(clean_text);
        let details: Vec<usize> = self.children(ntry, "NtryDtls").flat_map(|d| self.children(d, "TxDtls")).collect();
        let base = BankLine {
            key: String::new(),
            amount,
            direction,
            reversal,
            booking_date,
            value_date,
            refs: entry_refs,
            counterparty_name: None,
            counterparty_iban: None,
            description: entry_info,
            batch_detail: None,
            source: self.source(ntry),
            return_reason: self.return_reason(ntry),
        };
        match details.as_slice() {
            [] => out.push(base),
            [one] => out.push(self.detail(*one, base, direction)),
            many => {
                let signed_entry = signed(amount, direction);
                let mut sum = Decimal::ZERO;
                for (i, &tx) in many.iter().enumerate() {
                    let amt_node = self
                        .child(tx, "Amt")
                        .or_else(|| self.at(tx, &["AmtDtls", "TxAmt", "Amt"]))
                        .or_else(|| self.at(tx, &["AmtDtls", "InstdAmt", "Amt"]))
                        .ok_or_else(|| self.missing(tx, "Amt or AmtDtls (needed for each detail of a batch)"))?;
                    let tx_amount = self.amount(amt_node)?;
                    let tx_dir = if self.child(tx, "CdtDbtInd").is_some() { self.indicator(tx)? } else { direction };
                    sum =
                        sum.checked_add(signed(tx_amount, tx_dir)).ok_or_else(|| self.err(tx, ErrorKind::Overflow))?;
                    let mut line = base.clone();
                    line.amount = tx_amount;
                    line.direction = tx_dir;
                    line.batch_detail = Some(u32::try_from(i + 1).unwrap_or(u32::MAX));
                    line.source = self.source(tx);
                    out.push(self.detail(tx, line, tx_dir));
                }
                if sum != signed_entry {
                    return Err(self.err(
                        ntry,
                        ErrorKind::BatchSum {
                            entry: super::with_scale2(signed_entry),
                            details: super::with_scale2(sum),
                            count: many.len(),
                        },
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether an entry or transaction detail is a returned payment, and why: the code of
    /// `RtrInf/Rsn` (`Cd`, else `Prtry`; `UNSPECIFIED` when it names none), else a return
    /// sub-family of `BkTxCd/Domn/Fmly/SubFmlyCd` ([`RETURN_SUB_FAMILIES`]).
    fn return_reason(&self, id: usize) -> Option<String> {
        if let Some(rtr) = self.child(id, "RtrInf") {
            let code = self.text_at(rtr, &["Rsn", "Cd"]).or_else(|| self.text_at(rtr, &["Rsn", "Prtry"]));
            return Some(code.and_then(super::reason_code).unwrap_or_else(|| "UNSPECIFIED".into()));
        }
        let sub = self.text_at(id, &["BkTxCd", "Domn", "Fmly", "SubFmlyCd"])?;
        RETURN_SUB_FAMILIES.contains(&sub.trim()).then(|| sub.trim().to_string())
    }

    /// Fill references, counterparty and texts of a line from one `TxDtls`.
    fn detail(&self, tx: usize, mut line: BankLine, direction: Direction) -> BankLine {
        if let Some(reason) = self.return_reason(tx) {
            line.return_reason = Some(reason);
        }
        if let Some(r) = self.text_at(tx, &["Refs", "AcctSvcrRef"]).and_then(clean_ref) {
            line.refs.acct_svcr_ref = Some(r);
        }
        line.refs.end_to_end_id = self.text_at(tx, &["Refs", "EndToEndId"]).and_then(clean_ref);
        if let Some(rmt) = self.child(tx, "RmtInf") {
            line.refs.creditor_reference =
                self.children(rmt, "Strd").find_map(|s| self.text_at(s, &["CdtrRefInf", "Ref"])).and_then(clean_ref);
            let ustrd: Vec<&str> = self.children(rmt, "Ustrd").map(|u| self.text(u)).collect();
            line.refs.remittance_text = clean_text(&ustrd.join(" "));
        }
        // The other party: the debtor of money coming in, the creditor of money going out
        // (for a reversal the other way round).
        let incoming = (direction == Direction::Credit) != line.reversal;
        let (party, account) = if incoming { ("Dbtr", "DbtrAcct") } else { ("Cdtr", "CdtrAcct") };
        if let Some(parties) = self.child(tx, "RltdPties") {
            line.counterparty_name = self
                .text_at(parties, &[party, "Nm"])
                .or_else(|| self.text_at(parties, &[party, "Pty", "Nm"]))
                .and_then(clean_text);
            line.counterparty_iban = self.text_at(parties, &[account, "Id", "IBAN"]).and_then(normalize_iban);
        }
        if let Some(info) = self.text_at(tx, &["AddtlTxInf"]).and_then(clean_text) {
            line.description = Some(info);
        }
        line
    }
}

/// ISO 20022 bank transaction sub-families (`ExternalBankTransactionSubFamily1Code`) that
/// undo an earlier payment: reversal due to a payment return (`RRTN`), to a cancellation
/// request (`RPCR`), to a payment reversal (`PRDD`), and a returned or unpaid direct debit
/// (`UPDD`).
pub const RETURN_SUB_FAMILIES: &[&str] = &["RRTN", "RPCR", "PRDD", "UPDD"];

fn signed(amount: Decimal, direction: Direction) -> Decimal {
    match direction {
        Direction::Credit => amount,
        Direction::Debit => -amount,
    }
}
