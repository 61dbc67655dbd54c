// verify.js's pure functions against the ledger's own (tests/tests/site_browser.rs
// writes the vectors with ledger::merkle and ledger::jcs): RFC 9162 inclusion
// and consistency proofs for every index and pair of sizes up to 17 leaves, each
// also with one byte changed, and RFC 8785 canonical JSON of awkward values.
// Usage: node unit.mjs VERIFY_JS VECTORS_JSON. Exits 1 listing every failure.

import { readFileSync } from "node:fs";

const src = readFileSync(process.argv[2], "utf8");
const { jcs, verifyInclusion, verifyConsistency, keyInForce, parseCheckpoint, parseWitnessKey, verifyCosignatures } = await import(
  `data:text/javascript;base64,${Buffer.from(src).toString("base64")}`
);
const v = JSON.parse(readFileSync(process.argv[3], "utf8"));
const h = (x) => new Uint8Array(Buffer.from(x, "hex"));
const flipped = (b) => {
  const c = b.slice();
  c[0] ^= 1;
  return c;
};
const failures = [];
let count = 0;
const check = (ok, what) => {
  count++;
  if (!ok) failures.push(what);
};

for (const t of v.inclusion) {
  const leaf = h(v.leaves[t.i]);
  const proof = t.proof.map(h);
  const root = h(t.root);
  check(await verifyInclusion(t.i, t.n, leaf, proof, root), `inclusion ${t.i} of ${t.n} verifies`);
  check(!(await verifyInclusion(t.i, t.n, flipped(leaf), proof, root)), `inclusion ${t.i} of ${t.n}: another leaf fails`);
  check(!(await verifyInclusion(t.i, t.n, leaf, proof, flipped(root))), `inclusion ${t.i} of ${t.n}: another root fails`);
  for (let k = 0; k < proof.length; k++) {
    const bad = proof.map((p, j) => (j === k ? flipped(p) : p));
    check(!(await verifyInclusion(t.i, t.n, leaf, bad, root)), `inclusion ${t.i} of ${t.n}: proof[${k}] changed fails`);
  }
  check(!(await verifyInclusion(t.i, t.n, leaf, [...proof, proof[0] || leaf], root)), `inclusion ${t.i} of ${t.n}: a longer proof fails`);
  if (t.n > 1) check(!(await verifyInclusion((t.i + 1) % t.n, t.n, leaf, proof, root)), `inclusion ${t.i} of ${t.n}: another index fails`);
}
for (const t of v.consistency) {
  const proof = t.proof.map(h);
  const [r1, r2] = [h(t.root_m), h(t.root_n)];
  check(await verifyConsistency(t.m, t.n, r1, r2, proof), `consistency ${t.m} -> ${t.n} verifies`);
  check(!(await verifyConsistency(t.m, t.n, flipped(r1), r2, proof)), `consistency ${t.m} -> ${t.n}: another old root fails`);
  check(!(await verifyConsistency(t.m, t.n, r1, flipped(r2), proof)), `consistency ${t.m} -> ${t.n}: another new root fails`);
  for (let k = 0; k < proof.length; k++) {
    const bad = proof.map((p, j) => (j === k ? flipped(p) : p));
    check(!(await verifyConsistency(t.m, t.n, r1, r2, bad)), `consistency ${t.m} -> ${t.n}: proof[${k}] changed fails`);
  }
  check(!(await verifyConsistency(t.m, t.n, r1, r2, [...proof, r1])), `consistency ${t.m} -> ${t.n}: a longer proof fails`);
  if (t.m < t.n) check(!(await verifyConsistency(t.n, t.m, r2, r1, proof)), `consistency ${t.n} -> ${t.m} (shrinking) fails`);
}
for (const t of v.jcs) {
  let got;
  try {
    got = jcs(JSON.parse(t.json));
  } catch (e) {
    got = `error: ${e.message}`;
  }
  check(got === t.canonical, `jcs of ${t.json}: ${got} != ${t.canonical}`);
}
for (const bad of ["1.5", "9007199254740992", "-9007199254740992"]) {
  let threw = false;
  try {
    jcs(JSON.parse(`{"n":${bad}}`));
  } catch {
    threw = true;
  }
  check(threw, `jcs refuses the number ${bad}`);
}
// The key in force at a record: a member with keys A, then B from record 10,
// then C from record 20 (two rotations, as GET /v1/members/{id} shows them).
const [A, B, C] = ["aa", "bb", "cc"].map((x) => x.repeat(32));
const member = { key: C, previous_keys: [A, B], key_changes: [10, 20] };
for (const [seq, want] of [[1, A], [9, A], [10, B], [19, B], [20, C], [1000, C]]) {
  check(keyInForce(member, seq) === want, `key in force at ${seq}: ${keyInForce(member, seq)} != ${want}`);
}
// A witness's cosignature (ledger::witness::cosign) verifies; one changed byte
// fails loudly; another key under the witness's name does not count it.
{
  const c = v.cosignatures;
  const w = await parseWitnessKey(c.vkey);
  const names = await verifyCosignatures(parseCheckpoint(c.note), [w]);
  check(names.length === 1 && names[0] === c.name, `the witness's cosignature verifies: ${names}`);
  let threw = false;
  try {
    await verifyCosignatures(parseCheckpoint(c.bad_note), [w]);
  } catch {
    threw = true;
  }
  check(threw, "a changed cosignature fails the check");
  const other = await parseWitnessKey(c.other_vkey);
  check((await verifyCosignatures(parseCheckpoint(c.note), [other])).length === 0, "another key's witness is not counted");
  let badKey = false;
  try {
    await parseWitnessKey(c.vkey.replace(/\+[0-9a-f]{8}\+/, "+00000000+"));
  } catch {
    badKey = true;
  }
  check(badKey, "a vkey whose key id does not match is refused");
}
// A signature by a key the member had, but not at that position, is refused.
check(keyInForce(member, 5) !== B && keyInForce(member, 5) !== C, "a later key does not sign an earlier record");
check(keyInForce(member, 25) !== A && keyInForce(member, 25) !== B, "a rotated-out key does not sign a later record");
// A history that does not hold together accepts no key.
for (const [what, m] of [
  ["no changes for the previous keys", { key: C, previous_keys: [A, B] }],
  ["one change too few", { key: C, previous_keys: [A, B], key_changes: [10] }],
  ["changes not increasing", { key: C, previous_keys: [A, B], key_changes: [20, 10] }],
  ["a change that is no integer", { key: C, previous_keys: [A, B], key_changes: [10, "20"] }],
  ["no member", null],
]) {
  check(keyInForce(m, 15) === null, `${what}: no key is in force`);
}
check(keyInForce({ key: A, previous_keys: [], key_changes: [] }, 3) === A, "a member that never rotated: its key");

console.log(`${count - failures.length} of ${count} checks passed`);
if (failures.length) {
  console.log(failures.slice(0, 50).join("\n"));
  process.exit(1);
}
