//! Ed25519 keys and signatures: hex forms, strict verification, PKCS#8 key files.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Why a key, a signature or a key file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// Not 64 lowercase hex characters, or not a curve point.
    #[error("{0:?} is not an ed25519 public key: 64 lowercase hex characters of a valid point")]
    BadKey(String),
    /// A valid point written in a non-canonical encoding (y ≥ p, or the sign of
    /// x = 0 set): the same point has another, canonical, encoding.
    #[error("{0:?} is a non-canonical encoding of an ed25519 point; its canonical form is {1}")]
    NonCanonicalKey(String, String),
    /// A small-order (weak) key.
    #[error("public key {0} is a weak (small-order) key and is refused")]
    WeakKey(String),
    /// Not 128 lowercase hex characters.
    #[error("signature is not 128 lowercase hex characters")]
    BadSignatureEncoding,
    /// Verification failed.
    #[error("signature does not verify with key {0}")]
    BadSignature(String),
    /// Key file problems.
    #[error("key file {path}: {what}")]
    KeyFile {
        /// The file.
        path: String,
        /// What is wrong.
        what: String,
    },
}

/// An ed25519 public key, written as 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// The dalek key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
    /// The 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        crate::ids::hex32(self.0.as_bytes()).as_str().to_string()
    }
    /// Whether this is a small-order key (refused at registration).
    pub fn is_weak(&self) -> bool {
        self.0.is_weak()
    }
    /// Refuse a weak key.
    pub fn ensure_strong(&self) -> Result<(), CryptoError> {
        if self.is_weak() {
            Err(CryptoError::WeakKey(self.to_hex()))
        } else {
            Ok(())
        }
    }
    /// Verify `sig` over `msg` with RFC 8032 strict rules (`verify_strict`).
    pub fn verify(&self, msg: &[u8], sig: &SignatureHex) -> Result<(), CryptoError> {
        self.0.verify_strict(msg, &sig.0).map_err(|_| CryptoError::BadSignature(self.to_hex()))
    }
}

impl From<VerifyingKey> for PublicKey {
    fn from(k: VerifyingKey) -> Self {
        PublicKey(k)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl FromStr for PublicKey {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self, CryptoError> {
        let bytes = crate::ids::parse_hex32(s).ok_or_else(|| CryptoError::BadKey(s.to_string()))?;
        decompress(&bytes, s).map(PublicKey)
    }
}

/// Whether a point encoding that decompresses is the canonical one, read
/// from the bytes alone (compressing again costs a field inversion, as much
/// as a fifth of a signature check): its y is below p = 2^255 − 19, and the
/// sign bit of x is clear where x = 0 (exactly where y = 1 or y = p − 1).
fn is_canonical(bytes: &[u8; 32]) -> bool {
    let top = bytes[31] & 0x7f;
    let middle_all_ff = bytes[1..31].iter().all(|b| *b == 0xff);
    let middle_all_zero = bytes[1..31].iter().all(|b| *b == 0);
    let y_at_least_p = top == 0x7f && middle_all_ff && bytes[0] >= 0xed;
    let y_is_one = top == 0 && middle_all_zero && bytes[0] == 1;
    let y_is_p_minus_one = top == 0x7f && middle_all_ff && bytes[0] == 0xec;
    let sign = bytes[31] & 0x80 != 0;
    !y_at_least_p && !(sign && (y_is_one || y_is_p_minus_one))
}

/// Most decompressed keys kept by [`decompress`].
const KEY_CACHE_MAX: usize = 1 << 16;

/// `VerifyingKey::from_bytes` (a point decompression, about as costly as a
/// fifth of a signature check) and the canonical-encoding check, remembered
/// for keys seen recently: every entry carries its author's key, and authors
/// sign many entries.
fn decompress(bytes: &[u8; 32], text: &str) -> Result<VerifyingKey, CryptoError> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], VerifyingKey>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    // The cache holds plain values, so a panic elsewhere cannot leave it half-written.
    if let Some(k) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(bytes) {
        return Ok(*k);
    }
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| CryptoError::BadKey(text.to_string()))?;
    // Decompression accepts y ≥ p and a set sign bit on x = 0; compressing
    // again gives the one canonical encoding (`VerifyingKey::to_bytes` would
    // give back the bytes it was made from). Two encodings of one point would
    // let one key be registered twice, and other verifiers refuse them.
    if !is_canonical(bytes) {
        let canonical = key.to_edwards().compress().to_bytes();
        return Err(CryptoError::NonCanonicalKey(text.to_string(), hex::encode(canonical)));
    }
    let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
    if c.len() >= KEY_CACHE_MAX {
        c.clear();
    }
    c.insert(*bytes, key);
    Ok(key)
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(crate::ids::hex32(self.0.as_bytes()).as_str())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// An ed25519 signature, written as 128 lowercase hex characters.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureHex(pub Signature);

impl fmt::Debug for SignatureHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self)
    }
}

impl fmt::Display for SignatureHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0.to_bytes()))
    }
}

impl FromStr for SignatureHex {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self, CryptoError> {
        if s.len() != 128 || !s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
            return Err(CryptoError::BadSignatureEncoding);
        }
        let mut b = [0u8; 64];
        hex::decode_to_slice(s, &mut b).map_err(|_| CryptoError::BadSignatureEncoding)?;
        Ok(SignatureHex(Signature::from_bytes(&b)))
    }
}

impl Serialize for SignatureHex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SignatureHex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// Sign `msg`.
pub fn sign(key: &SigningKey, msg: &[u8]) -> SignatureHex {
    SignatureHex(key.sign(msg))
}

/// A fresh random key.
pub fn generate_key() -> SigningKey {
    SigningKey::generate(&mut rand::rngs::OsRng)
}

/// The key as PKCS#8 v1 PEM (RFC 8410 `PrivateKeyInfo`, the seed only), byte for
/// byte the form `openssl genpkey -algorithm ed25519` writes. (The v2 form with
/// the public key attached, `OneAsymmetricKey`, is what dalek writes by default;
/// OpenSSL 3 cannot read it.)
pub fn key_to_pem(key: &SigningKey) -> String {
    let v1 = ed25519_dalek::pkcs8::KeypairBytes { secret_key: key.to_bytes(), public_key: None };
    v1.to_pkcs8_pem(Default::default()).expect("an ed25519 seed always encodes as PKCS#8").to_string()
}

/// Parse a PKCS#8 PEM key.
pub fn key_from_pem(pem: &str, path: &str) -> Result<SigningKey, CryptoError> {
    SigningKey::from_pkcs8_pem(pem).map_err(|e| CryptoError::KeyFile {
        path: path.to_string(),
        what: format!("not an ed25519 PKCS#8 PEM private key ({e})"),
    })
}

/// Write a key file readable only by its owner (mode 0600); refuses to overwrite.
pub fn write_key_file(path: &Path, key: &SigningKey) -> Result<(), CryptoError> {
    use std::io::Write;
    let err = |what: String| CryptoError::KeyFile { path: path.display().to_string(), what };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| err(e.to_string()))?;
    f.write_all(key_to_pem(key).as_bytes()).map_err(|e| err(e.to_string()))?;
    f.sync_all().map_err(|e| err(e.to_string()))
}

/// Read a key file; refuses one that others than its owner can read.
pub fn read_key_file(path: &Path) -> Result<SigningKey, CryptoError> {
    let p = path.display().to_string();
    let err = |what: String| CryptoError::KeyFile { path: p.clone(), what };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(err(format!("is readable by others (mode {:o}); run chmod 600 on it", mode & 0o777)));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    key_from_pem(&text, &p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1 test vectors (TEST 1, 2, 3 and SHA(abc)).
    const RFC8032: &[(&str, &str, &str, &str)] = &[
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
        (
            "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
            "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
        ),
    ];

    #[test]
    fn rfc8032_vectors() {
        for (sk, pk, msg, sig) in RFC8032 {
            let mut seed = [0u8; 32];
            hex::decode_to_slice(sk, &mut seed).unwrap();
            let key = SigningKey::from_bytes(&seed);
            assert_eq!(hex::encode(key.verifying_key().to_bytes()), *pk);
            let msg = hex::decode(msg).unwrap();
            let s = sign(&key, &msg);
            assert_eq!(s.to_string(), *sig);
            let public: PublicKey = pk.parse().unwrap();
            public.verify(&msg, &sig.parse().unwrap()).unwrap();
            let mut wrong = msg.clone();
            wrong.push(0);
            assert!(public.verify(&wrong, &s).is_err());
        }
    }

    #[test]
    fn malleated_signature_refused() {
        // S + ℓ: the same signature with the group order added to S is refused.
        let (sk, pk, _, sig) = RFC8032[0];
        let _ = sk;
        let mut b = hex::decode(sig).unwrap();
        // ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let v = b[32 + i] as u16 + l[i] as u16 + carry;
            b[32 + i] = v as u8;
            carry = v >> 8;
        }
        let public: PublicKey = pk.parse().unwrap();
        let malleated: SignatureHex = hex::encode(&b).parse().unwrap();
        assert!(public.verify(b"", &malleated).is_err());
    }

    #[test]
    fn small_order_key_refused() {
        // The identity point (small order 1) and a point of order 8.
        let identity = format!("01{}", "00".repeat(31));
        let k: PublicKey = identity.parse().unwrap();
        assert!(k.is_weak());
        assert!(matches!(k.ensure_strong(), Err(CryptoError::WeakKey(_))));
        let order8 = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a";
        let k: PublicKey = order8.parse().unwrap();
        assert!(k.is_weak());
        // A signature by "anyone" with R = identity, S = 0 must not verify under a weak key.
        let sig: SignatureHex = format!("01{}{}", "00".repeat(31), "00".repeat(32)).parse().unwrap();
        assert!(k.verify(b"hello", &sig).is_err());
    }

    #[test]
    fn pem_roundtrip_and_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.pem");
        let key = generate_key();
        write_key_file(&p, &key).unwrap();
        let back = read_key_file(&p).unwrap();
        assert_eq!(back.to_bytes(), key.to_bytes());
        assert!(write_key_file(&p, &key).is_err(), "overwrote a key file");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = read_key_file(&p).unwrap_err().to_string();
            assert!(e.contains("readable by others"), "{e}");
        }
        // A key written by openssl genpkey -algorithm ed25519 (RFC 8410 example).
        let openssl = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        let k = key_from_pem(openssl, "x").unwrap();
        assert_eq!(
            hex::encode(k.verifying_key().to_bytes()),
            "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1"
        );
        // And we write exactly that form back (PKCS#8 v1: no public key attached).
        assert_eq!(key_to_pem(&k), openssl);
    }

    /// y + p for small y, little-endian, with the sign bit of x as given.
    fn y_plus_p(y: u8, sign: bool) -> [u8; 32] {
        // p = 2^255 - 19: little-endian bytes ed ff .. ff 7f; y + p for y < 19 fits.
        let mut b = [0xffu8; 32];
        b[0] = 0xed + y;
        b[31] = 0x7f | if sign { 0x80 } else { 0 };
        b
    }

    /// The byte test of canonical encodings agrees with compressing again, on
    /// every edge (y near 0, 1, p − 1 and p, both signs) and on random bytes.
    #[test]
    fn canonical_by_bytes_is_canonical_by_compression() {
        let mut cases: Vec<[u8; 32]> = Vec::new();
        for sign in [0u8, 0x80] {
            for y0 in [0u8, 1, 2, 0xeb, 0xec, 0xed, 0xee, 0xff] {
                for (mid, top) in [(0u8, 0u8), (0xff, 0x7f)] {
                    let mut b = [mid; 32];
                    b[0] = y0;
                    b[31] = top | sign;
                    cases.push(b);
                }
            }
        }
        for _ in 0..20_000 {
            cases.push(rand::random());
        }
        let mut checked = 0;
        for b in cases {
            let Ok(key) = VerifyingKey::from_bytes(&b) else { continue };
            checked += 1;
            assert_eq!(super::is_canonical(&b), key.to_edwards().compress().to_bytes() == b, "{}", hex::encode(b));
        }
        assert!(checked > 5_000, "only {checked} encodings decompressed");
    }

    #[test]
    fn non_canonical_encodings_refused() {
        let mut seen = 0;
        for y in 0u8..19 {
            for sign in [false, true] {
                let bytes = y_plus_p(y, sign);
                let text = hex::encode(bytes);
                // Only encodings that decompress at all are interesting.
                if VerifyingKey::from_bytes(&bytes).is_err() {
                    continue;
                }
                seen += 1;
                match text.parse::<PublicKey>() {
                    Err(CryptoError::NonCanonicalKey(got, canonical)) => {
                        assert_eq!(got, text);
                        assert_ne!(canonical, text);
                    }
                    other => panic!("{text} (y = {y} + p) was accepted or misnamed: {other:?}"),
                }
            }
        }
        assert!(seen > 0, "no non-canonical encoding decompressed: the test checks nothing");
        // x = 0 with the sign bit set: y = 1 (the identity), written 01 00 .. 80.
        let mut neg_zero = [0u8; 32];
        neg_zero[0] = 1;
        neg_zero[31] = 0x80;
        if VerifyingKey::from_bytes(&neg_zero).is_ok() {
            assert!(matches!(hex::encode(neg_zero).parse::<PublicKey>(), Err(CryptoError::NonCanonicalKey(..))));
        }
        // Canonical keys still parse.
        let k = generate_key().verifying_key();
        assert_eq!(hex::encode(k.to_bytes()).parse::<PublicKey>().unwrap(), PublicKey::from(k));
    }
}
