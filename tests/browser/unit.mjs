// verify.js's pure functions against the ledger's own (tests/tests/site_browser.rs
// writes the vectors with ledger::merkle and ledger::jcs): RFC 9162 inclusion
// and consistency proofs for every index and pair of sizes up to 17 leaves, each
// also with one byte changed, and RFC 8785 canonical JSON of awkward values.
// Usage: node unit.mjs VERIFY_JS VECTORS_JSON. Exits 1 listing every failure.

import { readFileSync } from "node:fs";

const src = readFileSync(process.argv[2], "utf8");
const { jcs, verifyInclusion, verifyConsistency } = await import(
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
console.log(`${count - failures.length} of ${count} checks passed`);
if (failures.length) {
  console.log(failures.slice(0, 50).join("\n"));
  process.exit(1);
}
