//! What a key file that is not an Ed25519 PKCS#8 key holds, by name, so the
//! error can say "this is an RSA key" instead of "bad key". Reads the PEM
//! label and, for PKCS#8, the algorithm identifier's OID (RFC 5958 §2).

use base64::Engine;

const ED25519: &str = "1.3.101.112";

/// The algorithm names of the OIDs found in key files.
const NAMES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.1", "RSA"),
    ("1.2.840.113549.1.1.10", "RSA-PSS"),
    ("1.2.840.10040.4.1", "DSA"),
    ("1.3.101.110", "X25519"),
    ("1.3.101.111", "X448"),
    (ED25519, "Ed25519"),
    ("1.3.101.113", "Ed448"),
    ("1.2.840.10045.3.1.7", "EC P-256"),
    ("1.3.132.0.34", "EC P-384"),
    ("1.3.132.0.35", "EC P-521"),
    ("1.3.132.0.10", "EC secp256k1"),
    ("1.2.840.10045.2.1", "EC"),
];

const FIX: &str = "meent signs with Ed25519 only: make a key with `meent keygen --out FILE` \
                   or `openssl genpkey -algorithm ed25519 -out FILE`";

/// A sentence naming what the PEM text holds when it is not a usable
/// Ed25519 PKCS#8 key, or `None` when it looks like one (the error is then
/// elsewhere) or holds nothing recognisable.
pub fn describe(pem: &str) -> Option<String> {
    let label = pem.lines().find_map(|l| l.trim().strip_prefix("-----BEGIN ")?.strip_suffix("-----"))?;
    match label {
        "PRIVATE KEY" => {}
        "ENCRYPTED PRIVATE KEY" => {
            return Some(format!(
                "the key file is encrypted with a passphrase; meent reads unencrypted keys: \
                 `openssl pkey -in FILE -out PLAIN.pem` (then chmod 600 PLAIN.pem). {FIX}"
            ))
        }
        "RSA PRIVATE KEY" => return Some(format!("the key file holds an RSA key (PKCS#1). {FIX}")),
        "EC PRIVATE KEY" => return Some(format!("the key file holds an EC key (SEC 1). {FIX}")),
        "OPENSSH PRIVATE KEY" => return Some(format!("the key file is an OpenSSH key, not PKCS#8 PEM. {FIX}")),
        "PUBLIC KEY" => return Some(format!("the key file holds a public key; signing needs the private key. {FIX}")),
        other => return Some(format!("the key file holds a PEM {other:?}, not a PKCS#8 PRIVATE KEY. {FIX}")),
    }
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .map(str::trim)
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).ok()?;
    let oids = algorithm_oids(&der)?;
    if oids.first().map(String::as_str) == Some(ED25519) {
        return None;
    }
    let name = |oid: &str| NAMES.iter().find(|(o, _)| *o == oid).map(|(_, n)| n.to_string());
    // For EC the curve (the parameter) names the key better than id-ecPublicKey.
    let what = oids
        .iter()
        .rev()
        .find_map(|o| name(o))
        .unwrap_or_else(|| format!("algorithm OID {}", oids.first().cloned().unwrap_or_default()));
    Some(format!("the key file holds an {what} key, not Ed25519. {FIX}"))
}

/// The OIDs of a PKCS#8 `PrivateKeyInfo`'s `AlgorithmIdentifier`: the
/// algorithm, and the parameter when it is an OID (an EC curve).
pub fn algorithm_oids(der: &[u8]) -> Option<Vec<String>> {
    let (tag, outer, _) = tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, _, rest) = tlv(outer)?; // version
    if tag != 0x02 {
        return None;
    }
    let (tag, alg, _) = tlv(rest)?;
    if tag != 0x30 {
        return None;
    }
    let mut out = Vec::new();
    let mut cur = alg;
    while let Some((tag, value, rest)) = tlv(cur) {
        if tag == 0x06 {
            out.push(oid_text(value)?);
        }
        cur = rest;
    }
    (!out.is_empty()).then_some(out)
}

/// One DER element: (tag, contents, what follows).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, head) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*b.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let end = head.checked_add(len)?;
    Some((tag, b.get(head..end)?, b.get(end..)?))
}

/// An OID's dotted text.
fn oid_text(v: &[u8]) -> Option<String> {
    let (&first, rest) = v.split_first()?;
    let mut parts = vec![u64::from(first / 40).min(2), u64::from(first) - 40 * u64::from(first / 40).min(2)];
    let mut acc: u64 = 0;
    for &byte in rest {
        acc = acc.checked_mul(128)?.checked_add(u64::from(byte & 0x7f))?;
        if byte & 0x80 == 0 {
            parts.push(acc);
            acc = 0;
        }
    }
    Some(parts.iter().map(u64::to_string).collect::<Vec<_>>().join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(der_hex: &str) -> String {
        let der = hex::decode(der_hex).unwrap();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
    }

    #[test]
    fn names_the_algorithm_of_a_pkcs8_key() {
        // PrivateKeyInfo heads with an empty key: version 0, then the AlgorithmIdentifier.
        let ed25519 = pem("3010020100300506032b6570040400000000");
        assert_eq!(describe(&ed25519), None);
        let x25519 = describe(&pem("3010020100300506032b656e040400000000")).unwrap();
        assert!(x25519.contains("X25519") && x25519.contains("meent keygen"), "{x25519}");
        let ed448 = describe(&pem("3010020100300506032b6571040400000000")).unwrap();
        assert!(ed448.contains("Ed448"), "{ed448}");
        let rsa = describe(&pem("3018020100300d06092a864886f70d0101010500040400000000")).unwrap();
        assert!(rsa.contains("RSA"), "{rsa}");
        let p256 = describe(&pem("301e020100301306072a8648ce3d020106082a8648ce3d030107040400000000")).unwrap();
        assert!(p256.contains("EC P-256"), "{p256}");
        let rsa1 = describe("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n").unwrap();
        assert!(rsa1.contains("RSA"), "{rsa1}");
    }
}
