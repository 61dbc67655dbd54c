// meent: the check in the reader's own browser (docs/SITE.md, "The check in the browser").
//
// A progressive enhancement: the pages are complete without it. This module
// re-derives, with WebCrypto (Ed25519, SHA-256), what docs/FORMAT.md says an
// auditor checks, for the records this page shows:
//
//   1. the checkpoint (GET /v1/checkpoint, a C2SP signed note) is signed by the
//      operator key of genesis (GET /v1/entries/0), and that key is the one this
//      browser pinned on its first visit (localStorage);
//   2. every element with data-seq: its record's author signature over the
//      signing bytes ("meent-entry-v1\n" || JCS(entry without sig)), its entry
//      id, its leaf hash (SHA-256(0x00 || JCS(record))), and its inclusion proof
//      (RFC 9162 §2.1.3.2) against the checkpoint's root;
//   3. the checkpoint is consistent with the last one this browser saw
//      (RFC 9162 §2.1.4.2): the log only grew;
//   4. the cosignatures (C2SP tlog-cosignature, cosignature/v1) on the
//      checkpoint of the witnesses the page names (<meta name="meent-witness">,
//      their keys pinned in this browser like the operator's): the badge names
//      those whose cosignature verifies; one that claims to be theirs and does
//      not verify fails the check.
//
// The badge (#verify-badge) gets data-state "checking", then "ok" or "failed";
// it stays "unchecked" when the browser lacks Ed25519. Its text comes from the
// two string tables below, chosen by <html lang>.

const TEXT = {
  nl: {
    checking: "Uw browser controleert de gegevens op deze pagina…",
    unsupported: "Uw browser kan Ed25519-handtekeningen niet controleren; gebruik `meent verify` of een recente browser.",
    ok: (n, size) =>
      `Gecontroleerd in uw browser: het checkpoint (${size} records) is ondertekend door de beheerder, ` +
      (n === 1
        ? "het ene record op deze pagina is ondertekend door de auteur en staat in het log."
        : `alle ${n} records op deze pagina zijn ondertekend door hun auteur en staan in het log.`),
    first: "Eerste bezoek: de sleutel van de beheerder is nu in deze browser vastgelegd.",
    grew: (date) => `Het log is alleen gegroeid sinds uw bezoek van ${date}.`,
    failed: "CONTROLE MISLUKT — vertrouw deze pagina niet:",
    keyChanged: (was, now) =>
      `de sleutel van de beheerder is VERANDERD sinds uw eerste bezoek (was ${was.slice(0, 16)}…, nu ${now.slice(0, 16)}…)`,
    checkpointSig: "de handtekening van het checkpoint klopt niet",
    checkpointForm: "het checkpoint is onleesbaar",
    origin: "het checkpoint hoort bij een ander log",
    shrank: (m, n) => `het log is gekrompen sinds uw vorige bezoek (${m} → ${n} records)`,
    inconsistent: "het log is herschreven sinds uw vorige bezoek (consistentiebewijs klopt niet)",
    entrySig: (s) => `record ${s}: de handtekening van de auteur klopt niet`,
    entryKey: (s) => `record ${s}: de sleutel is niet van de auteur`,
    entryId: (s) => `record ${s}: het id klopt niet`,
    leaf: (s) => `record ${s}: de leaf-hash klopt niet`,
    inclusion: (s) => `record ${s}: het bewijs van opname in het log klopt niet`,
    record: (s) => `record ${s}: onleesbaar of niet het gevraagde record`,
    fetch: (what) => `kon ${what} niet ophalen`,
    cosigned: (names, quorum) =>
      names.length >= quorum
        ? `Medeondertekend door de getuigen ${names.join(", ")}.`
        : `Tot nu toe hebben ${names.length} van de ${quorum} getuigen die het log vraagt dit checkpoint medeondertekend` +
          (names.length ? ` (${names.join(", ")}).` : "."),
    cosignature: (name) => `de medeondertekening van getuige ${name} klopt niet`,
    witnessKey: (name) => `de sleutel van getuige ${name} is onleesbaar`,
    witnessKeyChanged: (name, was, now) =>
      `de sleutel van getuige ${name} is VERANDERD sinds uw eerste bezoek (was ${was}, nu ${now})`,
  },
  en: {
    checking: "Your browser is checking the data on this page…",
    unsupported: "Your browser cannot check Ed25519 signatures; use `meent verify` or a recent browser.",
    ok: (n, size) =>
      `Checked in your browser: the checkpoint (${size} records) is signed by the operator, ` +
      (n === 1
        ? "the 1 record on this page is signed by its author and is in the log."
        : `all ${n} records on this page are signed by their author and are in the log.`),
    first: "First visit: the operator's key is now pinned in this browser.",
    grew: (date) => `The log only grew since your visit of ${date}.`,
    failed: "CHECK FAILED — do not trust this page:",
    keyChanged: (was, now) =>
      `the operator's key CHANGED since your first visit (was ${was.slice(0, 16)}…, now ${now.slice(0, 16)}…)`,
    checkpointSig: "the checkpoint's signature does not verify",
    checkpointForm: "the checkpoint cannot be read",
    origin: "the checkpoint belongs to another log",
    shrank: (m, n) => `the log shrank since your last visit (${m} → ${n} records)`,
    inconsistent: "the log was rewritten since your last visit (the consistency proof fails)",
    entrySig: (s) => `record ${s}: the author's signature does not verify`,
    entryKey: (s) => `record ${s}: the key is not the author's`,
    entryId: (s) => `record ${s}: the id does not match`,
    leaf: (s) => `record ${s}: the leaf hash does not match`,
    inclusion: (s) => `record ${s}: the proof that it is in the log fails`,
    record: (s) => `record ${s}: unreadable, or not the record asked for`,
    fetch: (what) => `could not fetch ${what}`,
    cosigned: (names, quorum) =>
      names.length >= quorum
        ? `Cosigned by the witnesses ${names.join(", ")}.`
        : `So far ${names.length} of the ${quorum} witnesses the log asks have cosigned this checkpoint` +
          (names.length ? ` (${names.join(", ")}).` : "."),
    cosignature: (name) => `the cosignature of witness ${name} does not verify`,
    witnessKey: (name) => `the key of witness ${name} cannot be read`,
    witnessKeyChanged: (name, was, now) => `the key of witness ${name} CHANGED since your first visit (was ${was}, now ${now})`,
  },
};

// Outside a page (tests/browser/unit.mjs imports this module into Node) only
// the exported functions are used.
const LANG = globalThis.document && document.documentElement.lang === "nl" ? "nl" : "en";
const T = TEXT[LANG];
const enc = new TextEncoder();

/** A check that failed: `message` is shown on the badge. */
class CheckFailed extends Error {}

const fail = (message) => {
  throw new CheckFailed(message);
};

// ---- bytes -----------------------------------------------------------------

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function unhex(s, len, what) {
  if (typeof s !== "string" || !/^[0-9a-f]*$/.test(s) || s.length !== 2 * len) fail(what);
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function unbase64(s, what) {
  let bin;
  try {
    bin = atob(s);
  } catch {
    fail(what);
  }
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
}

function equal(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

async function ed25519Verify(publicKey, signature, message) {
  try {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    return false;
  }
}

// ---- RFC 8785 (JCS), as ledger/src/jcs.rs: integers and strings only ---------

/** The canonical JSON text of `v`; a fraction or an unsafe integer is refused. */
export function jcs(v) {
  if (v === null || typeof v === "boolean") return JSON.stringify(v);
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new Error(`number ${v} is not a safe integer`);
    return String(v);
  }
  // JSON.stringify escapes strings exactly as RFC 8785 §3.2.2.2 asks.
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jcs).join(",")}]`;
  // Default sort compares UTF-16 code units (RFC 8785 §3.2.3).
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(",")}}`;
}

// ---- RFC 9162 §2.1: Merkle proofs -------------------------------------------

const node = (l, r) => sha256(concat(Uint8Array.of(1), l, r));
const odd = (n) => n % 2 === 1;
const half = (n) => Math.floor(n / 2);

/** RFC 9162 §2.1.3.2: does `proof` place `leaf` at `index` of the tree of `size` with `root`? */
export async function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = await node(p, r);
      if (!odd(fn)) {
        while (!(odd(fn) || fn === 0)) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = await node(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(r, root);
}

/** RFC 9162 §2.1.4.2: is the tree (`size2`, `root2`) an extension of (`size1`, `root1`)? */
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  if (size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && equal(root1, root2);
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  let path = proof;
  let x = size1;
  while (x % 2 === 0) x /= 2;
  // A power of two: the old tree is a complete subtree, whose hash the proof omits.
  if (x === 1) path = [root1, ...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = await node(c, fr);
      sr = await node(c, sr);
      if (!odd(fn)) {
        while (!(odd(fn) || fn === 0)) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = await node(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(fr, root1) && equal(sr, root2);
}

// ---- the log -----------------------------------------------------------------

async function getJson(path) {
  let res;
  try {
    res = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  } catch {
    fail(T.fetch(path));
  }
  if (!res.ok) fail(T.fetch(path));
  try {
    return await res.json();
  } catch {
    fail(T.fetch(path));
  }
}

/** The signed note of GET /v1/checkpoint, parsed (docs/FORMAT.md §4). */
export function parseCheckpoint(text) {
  const sep = text.indexOf("\n\n");
  if (sep < 0) fail(T.checkpointForm);
  const body = text.slice(0, sep + 1);
  const lines = body.split("\n");
  if (lines.length !== 4 || lines[3] !== "") fail(T.checkpointForm);
  const [origin, sizeText, rootText] = lines;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) fail(T.checkpointForm);
  const root = unbase64(rootText, T.checkpointForm);
  if (root.length !== 32) fail(T.checkpointForm);
  const sigs = text
    .slice(sep + 2)
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const m = /^\u2014 (\S+) (\S+)$/.exec(l);
      if (!m) fail(T.checkpointForm);
      return { name: m[1], blob: unbase64(m[2], T.checkpointForm) };
    });
  return { origin, size: Number(sizeText), root, rootText, note: enc.encode(body), sigs };
}

async function verifyCheckpoint(cp, operatorKey) {
  const keyId = (await sha256(concat(enc.encode(cp.origin), Uint8Array.of(0x0a, 0x01), operatorKey))).slice(0, 4);
  for (const s of cp.sigs) {
    if (s.name !== cp.origin || s.blob.length !== 68 || !equal(s.blob.slice(0, 4), keyId)) continue;
    if (await ed25519Verify(operatorKey, s.blob.slice(4), cp.note)) return;
  }
  fail(T.checkpointSig);
}

/**
 * The witnesses a page names: <meta name="meent-witness" content="VKEY">, a C2SP
 * vkey `name+<hex key id>+base64(0x04 || key)`, and the quorum the log asks.
 */
async function pageWitnesses() {
  const out = [];
  for (const m of document.querySelectorAll('meta[name="meent-witness"]')) out.push(await parseWitnessKey(m.content));
  const q = document.querySelector('meta[name="meent-witness-quorum"]');
  return { witnesses: out, quorum: q ? Number(q.content) : out.length };
}

/** A witness's vkey `name+<hex key id>+base64(0x04 || key)`, its key id checked. */
export async function parseWitnessKey(vkey) {
  // A name holds no "+"; the base64 may.
  const i = vkey.indexOf("+");
  const j = vkey.indexOf("+", i + 1);
  if (i <= 0 || j < 0) fail(T.witnessKey(vkey));
  const [name, idHex, b64] = [vkey.slice(0, i), vkey.slice(i + 1, j), vkey.slice(j + 1)];
  const material = unbase64(b64, T.witnessKey(name));
  if (material.length !== 33 || material[0] !== 0x04) fail(T.witnessKey(name));
  const key = material.slice(1);
  const keyId = (await sha256(concat(enc.encode(name), Uint8Array.of(0x0a, 0x04), key))).slice(0, 4);
  if (hex(keyId) !== idHex) fail(T.witnessKey(name));
  return { name, key, keyId, vkey };
}

/**
 * The names of the witnesses whose cosignature/v1 of the checkpoint verifies:
 * `cosignature/v1\ntime <t>\n` and the note, signed by the witness's key. A line
 * with a witness's name and key id that does not verify fails the check.
 */
export async function verifyCosignatures(cp, witnesses) {
  const names = [];
  for (const w of witnesses) {
    const line = cp.sigs.find((s) => s.name === w.name && s.blob.length === 76 && equal(s.blob.slice(0, 4), w.keyId));
    if (!line) continue;
    const time = new DataView(line.blob.buffer, line.blob.byteOffset + 4, 8).getBigUint64(0);
    const message = concat(enc.encode(`cosignature/v1\ntime ${time}\n`), cp.note);
    if (!(await ed25519Verify(w.key, line.blob.slice(12), message))) fail(T.cosignature(w.name));
    names.push(w.name);
  }
  return names;
}

/** The witnesses' keys pinned in this browser, by name: a changed one fails. */
function checkWitnessPins(origin, witnesses) {
  const pins = store.get(`meent.witness-keys:${origin}`) || {};
  for (const w of witnesses) {
    if (typeof pins[w.name] === "string" && pins[w.name] !== w.vkey) fail(T.witnessKeyChanged(w.name, pins[w.name], w.vkey));
  }
  return () => {
    for (const w of witnesses) pins[w.name] = w.vkey;
    store.set(`meent.witness-keys:${origin}`, pins);
  };
}

/** Checks one record: its id, its author's signature and key, its leaf hash, its inclusion. */
async function verifyRecord(seq, expectId, ctx) {
  const rec = await getJson(`/v1/entries/${seq}`);
  const e = rec && rec.entry;
  if (!e || typeof e !== "object" || rec.seq !== seq || typeof e.sig !== "string") fail(T.record(seq));
  let signing, leafBytes;
  try {
    const { sig, ...unsigned } = e;
    void sig;
    signing = concat(enc.encode("meent-entry-v1\n"), enc.encode(jcs(unsigned)));
    leafBytes = enc.encode(jcs({ entry: e, received_at: rec.received_at, seq: rec.seq }));
  } catch {
    fail(T.record(seq));
  }
  const key = await ctx.authorKey(e, seq);
  const sigBytes = unhex(e.sig, 64, T.entrySig(seq));
  if (!(await ed25519Verify(unhex(key, 32, T.entryKey(seq)), sigBytes, signing))) fail(T.entrySig(seq));
  const id = hex(await sha256(signing));
  if (id !== rec.id || (expectId && expectId !== id)) fail(T.entryId(seq));
  const leaf = await sha256(concat(Uint8Array.of(0), leafBytes));
  if (hex(leaf) !== rec.leaf_hash) fail(T.leaf(seq));
  const p = await getJson(`/v1/proofs/inclusion?seq=${seq}&size=${ctx.cp.size}`);
  if (!p || p.leaf_hash !== hex(leaf) || !Array.isArray(p.proof)) fail(T.inclusion(seq));
  const proof = p.proof.map((h) => unhex(h, 32, T.inclusion(seq)));
  if (!(await verifyInclusion(seq, ctx.cp.size, leaf, proof, ctx.cp.root))) fail(T.inclusion(seq));
}

/**
 * The key `member` (a `GET /v1/members/{id}` view) had in force at record
 * `seq`: `previous_keys[i]` signed the records before `key_changes[i]`, the
 * current `key` those from its last change on. `null` when the history does
 * not hold together (not one change per previous key, or changes not
 * increasing), so no key is accepted.
 */
export function keyInForce(member, seq) {
  if (!member || typeof member.key !== "string") return null;
  const previous = Array.isArray(member.previous_keys) ? member.previous_keys : [];
  const changes = Array.isArray(member.key_changes) ? member.key_changes : [];
  if (changes.length !== previous.length) return null;
  for (let i = 0; i < changes.length; i++) {
    if (!Number.isSafeInteger(changes[i]) || (i > 0 && changes[i] <= changes[i - 1])) return null;
  }
  const i = changes.findIndex((c) => seq < c);
  return i === -1 ? member.key : previous[i];
}

/** The key an entry must be signed with: docs/FORMAT.md §1.1's signing key. */
function keyLookup(genesis, operatorKey) {
  const members = new Map();
  return async (e, seq) => {
    if (seq === 0) {
      if (e.kind !== "genesis" || e.key !== operatorKey) fail(T.entryKey(seq));
      return e.key;
    }
    if (e.author === "operator") {
      if (e.key !== operatorKey) fail(T.entryKey(seq));
      return e.key;
    }
    if (!members.has(e.author)) members.set(e.author, getJson(`/v1/members/${encodeURIComponent(e.author)}`));
    const m = await members.get(e.author);
    // The key in force at this record, not any key the member ever had: a
    // key rotated out (or not yet rotated in) does not sign here.
    if (e.key !== keyInForce(m, seq)) fail(T.entryKey(seq));
    return e.key;
  };
}

// ---- this browser's memory ---------------------------------------------------

const store = {
  get(name) {
    try {
      return JSON.parse(localStorage.getItem(name));
    } catch {
      return null;
    }
  },
  set(name, value) {
    try {
      localStorage.setItem(name, JSON.stringify(value));
    } catch {
      // A browser that keeps nothing checks afresh every visit.
    }
  },
};

function formatDate(iso) {
  try {
    return new Date(iso).toLocaleDateString(LANG === "nl" ? "nl-NL" : "en-GB", {
      day: "numeric",
      month: "long",
      year: "numeric",
      timeZone: "Europe/Amsterdam",
    });
  } catch {
    return iso;
  }
}

/** Checks the log only grew since the checkpoint this browser last saw; returns the note to show. */
async function checkGrowth(origin, cp) {
  const last = store.get(`meent.checkpoint:${origin}`);
  if (!last || typeof last.size !== "number" || typeof last.root !== "string") return null;
  if (last.size > cp.size) fail(T.shrank(last.size, cp.size));
  const oldRoot = unbase64(last.root, T.inconsistent);
  let proof = [];
  if (last.size > 0 && last.size < cp.size) {
    const p = await getJson(`/v1/proofs/consistency?from=${last.size}&to=${cp.size}`);
    if (!p || !Array.isArray(p.proof)) fail(T.inconsistent);
    proof = p.proof.map((h) => unhex(h, 32, T.inconsistent));
  }
  if (!(await verifyConsistency(last.size, cp.size, oldRoot, cp.root, proof))) fail(T.inconsistent);
  return T.grew(formatDate(last.seen));
}

// ---- the badge ----------------------------------------------------------------

function show(badge, state, text, detail) {
  badge.dataset.state = state;
  badge.textContent = text;
  if (detail) {
    const strong = document.createElement("strong");
    strong.textContent = ` ${detail}`;
    badge.append(strong);
  }
  // Set through the CSSOM, which a strict Content-Security-Policy allows, so a
  // failure is loud even where the stylesheet did not load.
  const s = badge.style;
  if (state === "ok") {
    s.borderLeft = "0.4em solid #1a7f37";
  } else if (state === "failed") {
    badge.setAttribute("role", "alert");
    s.background = "#b3261e";
    s.color = "#fff";
    s.fontWeight = "bold";
    s.padding = "0.75em 1em";
    s.fontSize = "1.15em";
  }
}

async function run(badge) {
  const origin = document.documentElement.dataset.origin;
  show(badge, "checking", T.checking);
  const [cpText, genesis] = await Promise.all([
    fetch("/v1/checkpoint", { cache: "no-store" }).then(
      (r) => (r.ok ? r.text() : fail(T.fetch("/v1/checkpoint"))),
      () => fail(T.fetch("/v1/checkpoint")),
    ),
    getJson("/v1/entries/0"),
  ]);
  const cp = parseCheckpoint(cpText);
  const g = genesis && genesis.entry && genesis.entry.kind === "genesis" ? genesis.entry.body : null;
  if (!g || typeof g.operator_key !== "string") fail(T.record(0));
  if (cp.origin !== g.origin || (origin && origin !== cp.origin)) fail(T.origin);
  const pinName = `meent.operator-key:${cp.origin}`;
  const pinned = store.get(pinName);
  if (pinned && pinned.key !== g.operator_key) fail(T.keyChanged(pinned.key, g.operator_key));
  const operatorKey = unhex(g.operator_key, 32, T.record(0));
  await verifyCheckpoint(cp, operatorKey);
  const { witnesses, quorum } = await pageWitnesses();
  const pinWitnesses = checkWitnessPins(cp.origin, witnesses);
  const cosigners = await verifyCosignatures(cp, witnesses);

  const wanted = new Map();
  for (const el of document.querySelectorAll("[data-seq]")) {
    const seq = Number(el.dataset.seq);
    if (!Number.isSafeInteger(seq) || seq < 0 || String(seq) !== el.dataset.seq) fail(T.record(el.dataset.seq));
    if (!wanted.has(seq)) wanted.set(seq, el.dataset.entryId || null);
    else if (el.dataset.entryId && wanted.get(seq) && wanted.get(seq) !== el.dataset.entryId) fail(T.entryId(seq));
  }
  // The genesis record carries the operator key: it is checked on every page.
  if (!wanted.has(0)) wanted.set(0, null);
  const ctx = { cp, authorKey: keyLookup(g, g.operator_key) };
  const queue = [...wanted];
  const worker = async () => {
    while (queue.length) {
      const [seq, id] = queue.shift();
      try {
        await verifyRecord(seq, id, ctx);
      } catch (err) {
        for (const el of document.querySelectorAll(`[data-seq="${seq}"]`)) el.dataset.verify = "failed";
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  for (const el of document.querySelectorAll("[data-seq]")) el.dataset.verify = "ok";

  const grew = await checkGrowth(cp.origin, cp);
  if (!pinned) store.set(pinName, { key: g.operator_key, since: new Date().toISOString() });
  pinWitnesses();
  store.set(`meent.checkpoint:${cp.origin}`, { size: cp.size, root: cp.rootText, seen: new Date().toISOString() });
  const cosigned = witnesses.length ? T.cosigned(cosigners, quorum) : "";
  show(badge, "ok", `${T.ok(countShown(), cp.size)} ${cosigned} ${grew || (pinned ? "" : T.first)}`.replace(/ +/g, " ").trim());
}

function countShown() {
  return new Set(Array.from(document.querySelectorAll("[data-seq]"), (el) => el.dataset.seq)).size;
}

async function main() {
  const badge = document.getElementById("verify-badge");
  if (!badge) return;
  if (!globalThis.crypto || !crypto.subtle) {
    show(badge, "unchecked", T.unsupported);
    return;
  }
  try {
    // The Ed25519 base point: a valid key in every implementation.
    const base = Uint8Array.of(0x58, ...new Array(31).fill(0x66));
    await crypto.subtle.importKey("raw", base, { name: "Ed25519" }, false, ["verify"]);
  } catch {
    show(badge, "unchecked", T.unsupported);
    return;
  }
  try {
    await run(badge);
  } catch (err) {
    const why = err instanceof CheckFailed ? err.message : String(err && err.message ? err.message : err);
    show(badge, "failed", T.failed, why);
  }
}

if (globalThis.document) main();
