//! `meent serve --demo`: a temporary ledger seeded through the real API with a
//! believable Amsterdam scene, so a newcomer sees a living ledger at once.

use std::path::Path;

use anyhow::anyhow;
use chrono::Utc;
use ed25519_dalek::SigningKey;
use ledger::crypto::{self, PublicKey};
use ledger::entry::{sign_entry, Kind, Registrar};
use ledger::ids::Author;
use ledger::time::Timestamp;
use serde_json::{json, Value};

use crate::client::Client;
use crate::exit::{CmdError, CmdResult, InputContext};

/// The registrar of the demo.
pub const REGISTRAR: &str = "kamer-van-commons";

/// The demo's members: id, name, member_kind, legal_form, purpose.
pub const MEMBERS: &[(&str, &str, &str, &str, &str)] = &[
    ("energie-coop-noord", "Energiecoöperatie Amsterdam-Noord", "collective", "cooperatie", "Solar roofs and a heat network for Noord"),
    ("voedselbank-west", "Voedselbank Amsterdam West", "collective", "stichting", "Food parcels and a community kitchen"),
    ("zorgcollectief-oost", "Zorgcollectief Oost", "collective", "vereniging", "Neighbours caring for neighbours in Oost"),
    ("buurtwerkplaats-zuid", "Buurtwerkplaats Zuid", "collective", "stichting", "A repair café and tool library"),
    ("groene-daken-nieuw-west", "Groene Daken Nieuw-West", "collective", "informal", "Green roofs and rain gardens"),
    ("gemeente-amsterdam", "Gemeente Amsterdam", "municipality", "public_body", "The municipality, as an equal partner"),
];

/// Where the demo keeps its keys, so the visitor can sign entries too.
pub struct DemoKeys {
    /// The directory of PEM files, one per member id.
    pub dir: std::path::PathBuf,
}

/// Create the demo ledger in `data` (keys in `data/keys/`); returns the registrar entry.
pub fn create(data: &Path) -> CmdResult<DemoKeys> {
    let keys = data.join("keys");
    std::fs::create_dir_all(&keys).input_ctx(format!("cannot create {}", keys.display()))?;
    let reg = crypto::generate_key();
    crypto::write_key_file(&keys.join(format!("{REGISTRAR}.pem")), &reg).input_ctx("demo key")?;
    let registrar = Registrar { id: REGISTRAR.parse().input_ctx("registrar id")?, key: PublicKey::from(reg.verifying_key()) };
    ledger::log::Log::create(&data.join("ledger"), "meent.demo/amsterdam", vec![registrar], Utc::now()).input_ctx("cannot create the demo ledger")?;
    Ok(DemoKeys { dir: keys })
}

fn submit(client: &Client, kind: Kind, author: &str, key: &SigningKey, body: Value) -> CmdResult<Value> {
    let author: Author = author.parse().input_ctx("demo author")?;
    let e = sign_entry(kind, &author, key, &Timestamp::from_instant(Utc::now()), body).input_ctx("demo entry")?;
    let acc = client.submit(&e)?;
    Ok(json!({"id": e.id.to_hex(), "seq": acc.body["seq"]}))
}

/// Seed the running server at `url` through its API.
pub fn seed(url: &str, keys: &DemoKeys) -> CmdResult {
    let client = Client::new(url)?;
    let reg = crypto::read_key_file(&keys.dir.join(format!("{REGISTRAR}.pem"))).input_ctx("demo registrar key")?;
    for (id, name, kind, form, purpose) in MEMBERS {
        let key = crypto::generate_key();
        crypto::write_key_file(&keys.dir.join(format!("{id}.pem")), &key).input_ctx("demo key")?;
        submit(&client, Kind::MemberApply, id, &key, json!({"id": id, "name": name, "member_kind": kind, "legal_form": form, "purpose": purpose}))?;
        submit(&client, Kind::MemberAdmit, REGISTRAR, &reg, json!({"member": id}))?;
    }
    let hopeful = crypto::generate_key();
    crypto::write_key_file(&keys.dir.join("wijkbudget-centrum.pem"), &hopeful).input_ctx("demo key")?;
    submit(&client, Kind::MemberApply, "wijkbudget-centrum", &hopeful, json!({"id": "wijkbudget-centrum", "name": "Wijkbudget Centrum", "member_kind": "collective", "legal_form": "informal", "purpose": "Waiting for the registrar"}))?;
    Ok(())
}

/// Check the demo seeded what it should.
pub fn check(url: &str) -> CmdResult {
    let v = Client::new(url)?.get_json("/v1/members")?;
    let n = v["members"].as_array().map(Vec::len).unwrap_or(0);
    if n < MEMBERS.len() {
        return Err(CmdError::failed(anyhow!("demo seeding produced only {n} members")));
    }
    Ok(())
}
