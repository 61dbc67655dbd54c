//! `meent member apply|admit|reject|rotate-key|update|list`

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use ledger::entry::Kind;
use ledger::views::{MemberList, MemberView};
use serde_json::{json, Value};

use super::fund::wire;

use crate::client::{Accepted, Client, Signer, DEFAULT_SERVER};
use crate::exit::{CmdResult, InputContext};

/// Who signs and where to send it: shared by every client command.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Your key file (PKCS#8 PEM).
    #[arg(long)]
    pub key: PathBuf,
    /// Your member id.
    #[arg(long = "as", value_name = "ID")]
    pub as_id: String,
    /// The meent server.
    #[arg(long, default_value = DEFAULT_SERVER, env = "MEENT_SERVER")]
    pub server: String,
    /// Print the server's answer as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print only the new entry's id (for scripts: `ID=$(meent propose … --quiet)`).
    #[arg(long, short = 'q', conflicts_with = "json")]
    pub quiet: bool,
}

impl SignArgs {
    /// Sign `body` as `kind` and submit it; print the outcome.
    pub fn submit(&self, kind: Kind, body: Value) -> CmdResult<Accepted> {
        let signer = Signer::load(&self.key, &self.as_id)?;
        let entry = signer.sign(kind, body)?;
        let client = Client::new(&self.server)?;
        let acc = client.submit(&entry)?;
        if self.json {
            println!("{}", acc.body);
        } else if self.quiet {
            println!("{}", acc.body["id"].as_str().unwrap_or(""));
        } else {
            let what = if acc.created { "recorded" } else { "already recorded" };
            println!("{} {what} as record {} (entry {})", kind.as_str(), acc.receipt.seq, acc.receipt.id);
        }
        Ok(acc)
    }
}

/// The kinds of member.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MemberKindArg {
    /// A citizen collective.
    Collective,
    /// The municipality.
    Municipality,
    /// Another partner organisation.
    Partner,
}

/// Legal forms.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LegalFormArg {
    /// Foundation.
    Stichting,
    /// Co-operative.
    Cooperatie,
    /// Association.
    Vereniging,
    /// No legal entity.
    Informal,
    /// Public body.
    PublicBody,
}

/// `meent member …`
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Apply for membership, signing with your own new key.
    Apply {
        #[command(flatten)]
        sign: SignArgs,
        /// Your organisation's name.
        #[arg(long)]
        name: String,
        /// What kind of member.
        #[arg(long = "kind", value_enum)]
        kind: MemberKindArg,
        /// Legal form.
        #[arg(long = "legal-form", value_enum)]
        legal_form: LegalFormArg,
        /// Chamber of commerce (KvK) number.
        #[arg(long)]
        kvk: Option<String>,
        /// What the organisation does.
        #[arg(long)]
        purpose: Option<String>,
    },
    /// Admit a pending applicant (registrars only).
    Admit {
        #[command(flatten)]
        sign: SignArgs,
        /// The applicant's member id.
        #[arg(long)]
        member: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reject a pending applicant (registrars only).
    Reject {
        #[command(flatten)]
        sign: SignArgs,
        /// The applicant's member id.
        #[arg(long)]
        member: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Replace your key: later entries must be signed with the new one.
    RotateKey {
        #[command(flatten)]
        sign: SignArgs,
        /// The new key file (make it with `meent keygen`).
        #[arg(long = "new-key")]
        new_key: PathBuf,
    },
    /// Update your own entry in the register (e.g. an informal group that became a stichting).
    #[command(
        after_help = "Example:\n  meent member update --key groen.pem --as groene-daken-nieuw-west --legal-form stichting --kvk 87654321"
    )]
    Update {
        #[command(flatten)]
        sign: SignArgs,
        /// The organisation's name.
        #[arg(long)]
        name: Option<String>,
        /// Legal form.
        #[arg(long = "legal-form", value_enum)]
        legal_form: Option<LegalFormArg>,
        /// Chamber of commerce (KvK) number.
        #[arg(long)]
        kvk: Option<String>,
        /// What the organisation does.
        #[arg(long)]
        purpose: Option<String>,
    },
    /// List the register.
    List {
        /// The meent server.
        #[arg(long, default_value = DEFAULT_SERVER, env = "MEENT_SERVER")]
        server: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn value_name<T: ValueEnum>(v: T) -> String {
    v.to_possible_value().map(|p| p.get_name().replace('-', "_")).unwrap_or_default()
}

/// Run a member command.
pub fn run(c: MemberCommand) -> CmdResult {
    match c {
        MemberCommand::Apply { sign, name, kind, legal_form, kvk, purpose } => {
            let mut body = json!({"id": sign.as_id, "name": name, "member_kind": value_name(kind), "legal_form": value_name(legal_form)});
            if let Some(k) = kvk {
                body["kvk"] = json!(k);
            }
            if let Some(p) = purpose {
                body["purpose"] = json!(p);
            }
            sign.submit(Kind::MemberApply, body)?;
        }
        MemberCommand::Admit { sign, member, reason } => {
            sign.submit(Kind::MemberAdmit, decision(member, reason))?;
        }
        MemberCommand::Reject { sign, member, reason } => {
            sign.submit(Kind::MemberReject, decision(member, reason))?;
        }
        MemberCommand::RotateKey { sign, new_key } => {
            let key = ledger::crypto::read_key_file(&new_key).input_ctx("--new-key")?;
            let public = ledger::crypto::PublicKey::from(key.verifying_key());
            sign.submit(Kind::KeyRotate, json!({"new_key": public.to_hex()}))?;
        }
        MemberCommand::Update { sign, name, legal_form, kvk, purpose } => {
            let mut body = json!({});
            if let Some(n) = name {
                body["name"] = json!(n);
            }
            if let Some(f) = legal_form {
                body["legal_form"] = json!(value_name(f));
            }
            if let Some(k) = kvk {
                body["kvk"] = json!(k);
            }
            if let Some(p) = purpose {
                body["purpose"] = json!(p);
            }
            if body.as_object().is_some_and(|o| o.is_empty()) {
                return Err(crate::exit::CmdError::input(anyhow::anyhow!(
                    "nothing to update: give --name, --legal-form, --kvk or --purpose"
                )));
            }
            sign.submit(Kind::MemberUpdate, body)?;
        }
        MemberCommand::List { server, json } => {
            let pages = Client::new(&server)?.get_pages("/v1/members", |p: &MemberList| p.next)?;
            let members: Vec<MemberView> = pages.into_iter().flat_map(|p| p.members).collect();
            if json {
                println!("{}", json!({"members": members, "next": null}));
            } else {
                println!("{:<32} {:<10} {:<13} name", "id", "status", "kind");
                for m in &members {
                    let kind = if m.registrar { "registrar".to_string() } else { wire(&m.member_kind) };
                    println!(
                        "{:<32} {:<10} {:<13} {}",
                        m.id.as_str(),
                        wire(&m.status),
                        kind,
                        m.name.as_deref().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(())
}

fn decision(member: String, reason: Option<String>) -> Value {
    let mut body = json!({"member": member});
    if let Some(r) = reason {
        body["reason"] = json!(r);
    }
    body
}
