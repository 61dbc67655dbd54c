//! The API's downloads (`GET /v1/funds/{id}/export`, `/v1/rounds/{id}/pabulib`)
//! are byte for byte what `meent export` writes for the same ledger: the demo
//! server, the real binary.

mod common;

use common::*;

fn download(http: &reqwest::blocking::Client, url: &str, path: &str) -> Vec<u8> {
    let resp = http.get(format!("{url}{path}")).send().unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    let disposition = resp.headers().get("content-disposition").map(|v| v.to_str().unwrap().to_string());
    assert!(disposition.is_some_and(|d| d.starts_with("attachment; filename=")), "{path}");
    resp.bytes().unwrap().to_vec()
}

fn export(args: &[&str]) -> Vec<u8> {
    let out = meent(args);
    assert!(out.status.success(), "meent {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn downloads_are_the_bytes_meent_export_writes() {
    let demo = demo();
    let url = demo.1.clone();
    let http = reqwest::blocking::Client::new();
    let fund = "warmtefonds-noord";
    let (_, f) = get(&http, &url, &format!("/v1/funds/{fund}"));
    let rounds = f["rounds"].as_array().unwrap();
    let round = rounds.iter().find(|r| r["status"] == "closed").unwrap_or_else(|| panic!("no closed round: {f}"));
    let round = round["id"].as_str().unwrap().to_string();
    let checkpoint = || http.get(format!("{url}/v1/checkpoint")).send().unwrap().text().unwrap();
    // The demo's server closes votes as they fall due: compare within one checkpoint.
    let mut compared = false;
    for _ in 0..3 {
        let before = checkpoint();
        let mut pairs = Vec::new();
        for format in ["csv", "hledger", "beancount"] {
            let cli = export(&["export", "--format", format, "--server", &url, "--fund", fund]);
            let api = download(&http, &url, &format!("/v1/funds/{fund}/export?format={format}"));
            pairs.push((format, cli, api));
        }
        let cli = export(&["export", "--format", "pabulib", "--server", &url, "--round", &round]);
        pairs.push(("pabulib", cli, download(&http, &url, &format!("/v1/rounds/{round}/pabulib"))));
        let flows = http.get(format!("{url}/v1/funds/{fund}/flows")).send().unwrap().bytes().unwrap().to_vec();
        pairs.push(("json", flows, download(&http, &url, &format!("/v1/funds/{fund}/export?format=json"))));
        if checkpoint() != before {
            continue;
        }
        for (format, cli, api) in pairs {
            assert!(!cli.is_empty(), "{format}");
            assert!(
                cli == api,
                "{format}: the download differs from meent export:\n{}\n---\n{}",
                String::from_utf8_lossy(&cli),
                String::from_utf8_lossy(&api)
            );
        }
        compared = true;
        break;
    }
    assert!(compared, "the log kept growing");
}
