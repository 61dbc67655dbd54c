//! What looks like personal data in free text (SPEC §8: the log is public
//! forever, so no IBAN, e-mail address, phone number or BSN goes into it).
//!
//! [`find`] reports the first kind of personal data a text holds, never the data
//! itself, so a refusal can name the field and the kind without echoing it.
//! Each detector is narrow, so that what a fund really writes passes: amounts,
//! dates, SEPA end-to-end references, KvK numbers (8 digits), entry ids (hex)
//! and pabulib project ids.
//!
//! - IBAN: a known country code, two check digits and the country's length
//!   (printed in groups of four or not, any case), whose ISO 13616 mod-97
//!   checksum holds.
//! - E-mail: `local@domain.tld`, the domain with a dot and a tld of letters.
//! - Phone: a Dutch number (10 digits from a leading `0`, in groups or not), or
//!   an international one (`+` or `00`, then 9 to 15 digits), standing alone.
//! - BSN: nine digits standing alone (or as `dddd.dd.ddd`) that pass the
//!   eleven-test.
//!
//! "Standing alone": not glued to letters, digits or `-`, `_`, `/`, `#` on
//! either side, so a reference such as `E2E-2024-000123456` or a hex id is not
//! read as a number of its own.

use std::fmt;

/// A kind of personal data found in free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// A bank account number with a valid checksum.
    Iban,
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A citizen service number (burgerservicenummer) passing the eleven-test.
    Bsn,
}

impl Found {
    /// The name used in refusals: `iban`, `email`, `phone`, `bsn`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Found::Iban => "iban",
            Found::Email => "email",
            Found::Phone => "phone",
            Found::Bsn => "bsn",
        }
    }

    /// How a person reads it: "an IBAN", "an e-mail address".
    pub const fn described(self) -> &'static str {
        match self {
            Found::Iban => "an IBAN",
            Found::Email => "an e-mail address",
            Found::Phone => "a phone number",
            Found::Bsn => "a BSN (citizen service number)",
        }
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first kind of personal data in `text`, if any.
pub fn find(text: &str) -> Option<Found> {
    let chars: Vec<char> = text.chars().collect();
    if has_email(&chars) {
        return Some(Found::Email);
    }
    if has_iban(&chars) {
        return Some(Found::Iban);
    }
    if has_phone(&chars) {
        return Some(Found::Phone);
    }
    if has_bsn(&chars) {
        return Some(Found::Bsn);
    }
    None
}

/// Characters that glue a number to a code around it.
fn is_glue(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '/' | '#' | '@' | '+')
}

/// Whether position `i` (the first character of a candidate) starts a word:
/// nothing glued before it.
fn starts_alone(chars: &[char], i: usize) -> bool {
    i == 0 || !is_glue(chars[i - 1])
}

/// Whether the candidate ending before `end` stands alone there: nothing glued
/// after it, and no `.` or `,` followed by a digit (a decimal or a longer number).
fn ends_alone(chars: &[char], end: usize) -> bool {
    match chars.get(end) {
        None => true,
        Some(&c) if is_glue(c) => false,
        Some('.' | ',' | ':') => !chars.get(end + 1).is_some_and(|c| c.is_ascii_digit()),
        Some(_) => true,
    }
}

// ---- e-mail ----

fn is_local(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'')
}

fn is_domain(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-')
}

fn has_email(chars: &[char]) -> bool {
    for (at, _) in chars.iter().enumerate().filter(|(_, &c)| c == '@') {
        let local = chars[..at].iter().rev().take_while(|&&c| is_local(c)).count();
        if local == 0 {
            continue;
        }
        let domain: String = chars[at + 1..].iter().take_while(|&&c| is_domain(c)).collect();
        let domain = domain.trim_end_matches(['.', '-']);
        let labels: Vec<&str> = domain.split('.').collect();
        let tld = labels.last().copied().unwrap_or("");
        if labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty())
            && tld.chars().count() >= 2
            && tld.chars().all(char::is_alphabetic)
        {
            return true;
        }
    }
    false
}

// ---- IBAN ----

/// IBAN lengths by country (ISO 13616 registry): SEPA countries and the
/// neighbours a Dutch fund meets.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GI", 23),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("TR", 26),
    ("VA", 22),
];

fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS.iter().find(|(c, _)| *c == country).map(|&(_, n)| n)
}

/// ISO 13616: move the first four characters to the end, letters to 10..35,
/// and the number mod 97 is 1.
pub fn iban_checksum_ok(compact: &str) -> bool {
    if compact.len() < 5 || !compact.is_ascii() {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = match c.to_ascii_uppercase() {
            d @ '0'..='9' => d as u32 - '0' as u32,
            l @ 'A'..='Z' => l as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

fn has_iban(chars: &[char]) -> bool {
    for i in 0..chars.len() {
        if !starts_alone(chars, i) || chars.len() < i + 4 {
            continue;
        }
        let country: String = chars[i..i + 2].iter().map(|c| c.to_ascii_uppercase()).collect();
        if !chars[i + 2].is_ascii_digit() || !chars[i + 3].is_ascii_digit() {
            continue;
        }
        let Some(len) = iban_length(&country) else { continue };
        // Gather `len` alphanumerics, allowing single spaces between groups.
        let mut compact = String::new();
        let mut j = i;
        while j < chars.len() && compact.len() < len {
            let c = chars[j];
            let group_gap = c == ' ' && chars.get(j + 1).is_some_and(char::is_ascii_alphanumeric);
            if c.is_ascii_alphanumeric() {
                compact.push(c);
            } else if !group_gap {
                break;
            }
            j += 1;
        }
        if compact.len() == len && ends_alone(chars, j) && iban_checksum_ok(&compact) {
            return true;
        }
    }
    false
}

// ---- phone ----

/// The digit groups of a number starting at `i` (a `+`, `(` or digit),
/// separated by single spaces, hyphens or `(0)`/parentheses, and where it ends.
fn digit_groups(chars: &[char], mut i: usize) -> (Vec<String>, usize) {
    let mut groups: Vec<String> = Vec::new();
    let mut current = String::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            current.push(c);
            i += 1;
            continue;
        }
        let next_digit = |k: usize| chars.get(k).is_some_and(|c| c.is_ascii_digit() || *c == '(');
        let separator = matches!(c, ' ' | '-') && next_digit(i + 1)
            || c == '(' && chars.get(i + 1).is_some_and(char::is_ascii_digit)
            || c == ')' && !current.is_empty() && (next_digit(i + 1) || chars.get(i + 1) == Some(&' '));
        if !separator {
            break;
        }
        if !current.is_empty() {
            groups.push(std::mem::take(&mut current));
        }
        i += 1;
        if c == ')' && chars.get(i) == Some(&' ') && next_digit(i + 1) {
            i += 1;
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    (groups, i)
}

/// Whether the first groups read as a date (`15-01-2024`, `1 2 2024`).
fn looks_like_date(groups: &[String]) -> bool {
    groups.len() >= 3 && groups[0].len() <= 2 && groups[1].len() <= 2 && groups[2].len() == 4
}

fn has_phone(chars: &[char]) -> bool {
    for i in 0..chars.len() {
        let c = chars[i];
        if !matches!(c, '+' | '0' | '(') || !starts_alone(chars, i) {
            continue;
        }
        let international = c == '+';
        let start = if international { i + 1 } else { i };
        if !chars.get(start).is_some_and(|c| c.is_ascii_digit() || *c == '(') {
            continue;
        }
        let (groups, end) = digit_groups(chars, start);
        if groups.is_empty() || !ends_alone(chars, end) || !international && looks_like_date(&groups) {
            continue;
        }
        let mut digits: String = groups.concat();
        if international {
            // "+31 (0)6 ...": the trunk zero in parentheses is not dialled.
            if groups.len() >= 2 && groups[1] == "0" {
                digits = std::iter::once(groups[0].as_str()).chain(groups[2..].iter().map(String::as_str)).collect();
            }
            if (9..=15).contains(&digits.len()) && !digits.starts_with('0') {
                return true;
            }
        } else if let Some(rest) = digits.strip_prefix("00") {
            // International dialling prefix: country code and number.
            if (9..=15).contains(&rest.len()) && !rest.starts_with('0') {
                return true;
            }
        } else if digits.len() == 10 && (groups.len() == 1 || groups[0].len() <= 4) {
            // A Dutch number: 0, an area code or 6, the subscriber; ten digits.
            return true;
        }
    }
    false
}

// ---- BSN ----

/// The eleven-test of a nine-digit BSN: 9·d1 + 8·d2 + … + 2·d8 − d9 is a
/// multiple of 11 (and the number is not zero).
pub fn bsn_eleven_test(digits: &[u8; 9]) -> bool {
    let mut sum: i32 = 0;
    for (k, &d) in digits[..8].iter().enumerate() {
        sum += (9 - k as i32) * i32::from(d);
    }
    sum -= i32::from(digits[8]);
    digits.iter().any(|&d| d != 0) && sum % 11 == 0
}

fn has_bsn(chars: &[char]) -> bool {
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || !starts_alone(chars, i) {
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|c| c.is_ascii_digit() || **c == '.').count();
        let token: String = chars[i..i + run].iter().collect();
        let token_trimmed = token.trim_end_matches('.');
        let end = i + token_trimmed.chars().count();
        let shape_ok = token_trimmed.len() == 9 && token_trimmed.bytes().all(|b| b.is_ascii_digit())
            || token_trimmed.len() == 11 && {
                let b = token_trimmed.as_bytes();
                b[4] == b'.' && b[7] == b'.' && token_trimmed.bytes().filter(u8::is_ascii_digit).count() == 9
            };
        if shape_ok && ends_alone(chars, end) {
            let mut d = [0u8; 9];
            for (slot, b) in d.iter_mut().zip(token_trimmed.bytes().filter(u8::is_ascii_digit)) {
                *slot = b - b'0';
            }
            if bsn_eleven_test(&d) {
                return true;
            }
        }
        i += run.max(1);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn found(text: &str, kind: Found) {
        assert_eq!(find(text), Some(kind), "{text:?} holds {}", kind.described());
    }

    #[track_caller]
    fn clean(text: &str) {
        assert_eq!(find(text), None, "{text:?} holds no personal data");
    }

    #[test]
    fn ibans_with_a_valid_checksum_are_found_in_any_print_form() {
        found("NL91ABNA0417164300", Found::Iban);
        found("Graag overmaken naar NL91 ABNA 0417 1643 00, dank!", Found::Iban);
        found("nl91abna0417164300", Found::Iban);
        found("rekening: DE89 3704 0044 0532 0130 00.", Found::Iban);
        found("BE68539007547034", Found::Iban);
        found("(GB29NWBK60161331926819)", Found::Iban);
    }

    #[test]
    fn iban_shaped_text_with_a_wrong_checksum_or_length_is_not_an_iban() {
        clean("NL92ABNA0417164300");
        clean("NL91ABNA041716430");
        clean("NL91ABNA04171643001");
        // An ISO 11649 creditor reference uses the same mod 97, but RF is no country.
        clean("RF18539007547034");
        // Glued into a longer code.
        clean("REF-NL91ABNA0417164300");
    }

    #[test]
    fn e_mail_addresses_are_found() {
        found("mail jan.jansen@example.nl voor vragen", Found::Email);
        found("<info+fonds@buurt-kas.org>", Found::Email);
        found("a@b.co", Found::Email);
    }

    #[test]
    fn an_at_sign_without_an_address_is_not_an_e_mail() {
        clean("@gemeente op sociale media");
        clean("3 stuks @ 12.50");
        clean("foo@bar");
        clean("foo@bar.1");
    }

    #[test]
    fn dutch_and_international_phone_numbers_are_found() {
        for t in [
            "bel 0612345678",
            "06-12345678",
            "06 12 34 56 78",
            "06 1234 5678",
            "tel. 020-1234567",
            "010 123 4567",
            "(020) 123 4567",
            "+31612345678",
            "+31 6 12345678",
            "+31 (0)20 123 4567",
            "0031 6 12345678",
            "+44 20 7946 0958",
            "+1 415 555 2671",
        ] {
            found(t, Found::Phone);
        }
    }

    #[test]
    fn bsns_passing_the_eleven_test_are_found() {
        found("BSN 111222333", Found::Bsn);
        found("bsn: 123456782.", Found::Bsn);
        found("1234.56.782", Found::Bsn);
        // Nine digits failing the eleven-test are some other number.
        clean("BSN 123456789");
    }

    #[test]
    fn what_a_fund_really_writes_is_not_personal_data() {
        for t in [
            // Amounts, in every way a treasurer writes them.
            "EUR 1.234.567,89",
            "€ 123456789,00",
            "€ 123456782,00",
            "2400.00",
            "+1000.00 bijdrage",
            "-250,00",
            "totaal 123456782.50 euro",
            // Dates and times.
            "2024-01-15",
            "15-01-2024",
            "01-02-2024 10:00",
            "op 01-02-2024 10 leden aanwezig",
            "2026-12-06T20:58:22Z",
            // SEPA end-to-end references and payment references.
            "E2E-2024-000123456",
            "MEENT-2024-0001",
            "NOTPROVIDED",
            "contrib/2024/000123456",
            "RF18539007547034",
            "INV-0612345678",
            "betaling 2024-03 #000123456",
            // KvK numbers (8 digits), also with their label.
            "KvK 12345678",
            "kvk: 69599084",
            // Entry ids (64 hex) and pabulib project ids.
            "reverses 1b4f0e9851971998e732078544c96b36c3d01cedf7caa332359d6f1d83567014",
            "3f2a0123456782ab0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f70819",
            "project 1234 of poland_warszawa_2023_",
            "pabulib project 000123456_x",
            // Postcodes, house numbers, years, counts.
            "1012 AB Amsterdam, Dam 1",
            "50 collectieven in 2024",
        ] {
            clean(t);
        }
    }

    #[test]
    fn the_eleven_test_and_the_mod_97_checksum_are_the_standard_ones() {
        assert!(bsn_eleven_test(&[1, 1, 1, 2, 2, 2, 3, 3, 3]));
        assert!(bsn_eleven_test(&[1, 2, 3, 4, 5, 6, 7, 8, 2]));
        assert!(!bsn_eleven_test(&[1, 2, 3, 4, 5, 6, 7, 8, 9]));
        assert!(!bsn_eleven_test(&[0; 9]));
        assert!(iban_checksum_ok("NL91ABNA0417164300"));
        assert!(!iban_checksum_ok("NL91ABNA0417164301"));
    }
}
