// The site in a real headless Chromium: run by tests/tests/site_browser.rs,
// which starts the demo server behind a test-only tampering proxy and passes
// one JSON argument: { base, chromium, shots, pages: "crawl" | [paths], old }.
// Prints one line per check; exits 1 listing every failure.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const cfg = JSON.parse(process.argv[2]);
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
  return ok;
};

// A hung browser fails the test instead of blocking CI.
setTimeout(() => {
  console.log(`FAIL the checks did not finish in 8 minutes; failed so far:\n${failures.join("\n")}`);
  process.exit(1);
}, 8 * 60 * 1000).unref();

const browser = await chromium.launch({
  executablePath: cfg.chromium,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

/** A fresh browser profile (playwright gives each context its own storage). */
const fresh = () => browser.newContext({ viewport: { width: 1280, height: 900 } });

/** Waits until the badge leaves "unchecked"/"checking"; its state and text (state "timeout" after 30 s). */
async function badge(page) {
  const done = await page
    .waitForFunction(
      () => {
        const b = document.getElementById("verify-badge");
        return b && (b.dataset.state === "ok" || b.dataset.state === "failed");
      },
      null,
      { timeout: 30000 },
    )
    .then(
      () => true,
      () => false,
    );
  const now = await page.evaluate(() => {
    const b = document.getElementById("verify-badge");
    return b ? { state: b.dataset.state, text: b.textContent } : { state: "missing", text: "no #verify-badge" };
  });
  return done ? now : { state: "timeout", text: `still ${now.state} after 30 s: ${now.text}` };
}

/** Serious and critical axe-core violations of the loaded page. */
async function axe(page) {
  // Through the DevTools protocol, which a strict CSP does not apply to.
  await page.evaluate(AXE);
  const res = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ["violations"] }));
  return res.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
}

const SKIP = /^\/(v1\/|openapi\.json|healthz|site\/|favicon)|\.(csv|pb|json|journal|ledger|beancount|txt|png|svg)$|\/download/;

/** A page's shape: `/L/section/*` for `/nl/funds/warmtefonds-noord` and `/en/funds/x` alike. */
const shape = (path) => {
  const segs = path.split("?")[0].split("/").filter(Boolean);
  if (segs.length && /^(nl|en)$/.test(segs[0])) segs[0] = "L";
  return "/" + segs.slice(0, 2).join("/") + (segs.length > 2 ? "/*" : "");
};
const langOf = (path) => (/^\/(nl|en)(\/|$)/.exec(path) || [])[1] || "?";

/** The site's pages, found by following links from / (at most 2 per shape and language). */
async function crawl(ctx) {
  const page = await ctx.newPage();
  const origin = new URL(cfg.base).origin;
  const seen = new Set();
  const perShape = new Map();
  const queue = ["/"];
  const pages = [];
  while (queue.length && pages.length < 60) {
    const path = queue.shift();
    if (seen.has(path)) continue;
    seen.add(path);
    const key = `${langOf(path)} ${shape(path)}`;
    if ((perShape.get(key) || 0) >= 2) continue;
    let res;
    try {
      res = await page.goto(cfg.base + path);
    } catch {
      continue; // a download, not a page
    }
    if (!res || !(res.headers()["content-type"] || "").startsWith("text/html")) continue;
    const u = new URL(page.url());
    const landed = u.pathname + u.search;
    if (landed !== path) {
      if (!seen.has(landed)) queue.unshift(landed);
      continue;
    }
    perShape.set(key, (perShape.get(key) || 0) + 1);
    pages.push(path);
    const links = await page.evaluate(() => Array.from(document.querySelectorAll("a[href]"), (a) => a.href));
    for (const href of links) {
      const l = new URL(href);
      if (l.origin !== origin) continue;
      const p = l.pathname + l.search;
      if (!SKIP.test(l.pathname) && !seen.has(p)) queue.push(p);
    }
  }
  await page.close();
  return pages;
}

/** Every page: renders, badge green, no serious axe violation, no sideways scroll at 390 px. */
async function checkPages(pages) {
  const ctx = await fresh();
  const langs = new Map();
  for (const path of pages) {
    const page = await ctx.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    // A failed load is reported by its response (below), which names the URL.
    page.on("console", (m) => m.type() === "error" && !/^Failed to load resource/.test(m.text()) && errors.push(m.text()));
    page.on("response", (r) => r.status() >= 400 && !/\/favicon/.test(r.url()) && errors.push(`${r.status()} ${r.url()}`));
    const res = await page.goto(cfg.base + path);
    check(res && res.status() === 200, `${path}: 200 (${res && res.status()})`);
    const csp = (res && res.headers()["content-security-policy"]) || "";
    check(/default-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), `${path}: under a strict Content-Security-Policy`);
    const lang = await page.evaluate(() => document.documentElement.lang);
    check(lang === "nl" || lang === "en", `${path}: <html lang> is nl or en (${lang})`);
    if (!langs.has(shape(path))) langs.set(shape(path), new Set());
    langs.get(shape(path)).add(lang);
    const origin = await page.evaluate(() => document.documentElement.dataset.origin);
    check(Boolean(origin), `${path}: <html data-origin>`);
    const b = await badge(page);
    check(b.state === "ok", `${path}: badge ok — ${b.text}`);
    check(/Cosigned by the witnesses \S|Medeondertekend door de getuigen \S/.test(b.text), `${path}: the badge names the witnesses who cosigned — ${b.text}`);
    const violations = await axe(page);
    check(violations.length === 0, `${path}: axe-core, no serious or critical violation ${violations.join("; ")}`);
    await page.setViewportSize({ width: 390, height: 844 });
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    check(w <= 390, `${path}: at 390 px no sideways scroll (scrollWidth ${w})`);
    check(errors.length === 0, `${path}: no script or console error ${errors.join("; ")}`);
    await page.close();
  }
  await ctx.close();
  return langs;
}

/** The top of the fund page (badge, balances, charter) at 390 and 1280 px. */
async function screenshots(path) {
  const ctx = await fresh();
  const page = await ctx.newPage();
  for (const [width, height] of [
    [390, 1500],
    [1280, 1000],
  ]) {
    await page.setViewportSize({ width, height });
    await page.goto(cfg.base + path);
    await badge(page);
    await page.screenshot({ path: join(cfg.shots, `fund-${width}.png`) });
    console.log(`     screenshot ${path} at ${width} px -> ${join(cfg.shots, `fund-${width}.png`)}`);
  }
  await ctx.close();
}

/** Visits `path` in a fresh profile whose storage `prepare` fills first; the badge. */
async function visit(path, prepare) {
  const ctx = await fresh();
  const page = await ctx.newPage();
  await page.goto(cfg.base + path);
  await badge(page);
  if (prepare) {
    await page.evaluate(prepare.fn, prepare.arg);
    await page.reload();
  }
  const b = await badge(page);
  const seqs = await page.evaluate(() =>
    Array.from(document.querySelectorAll("[data-verify=failed]"), (el) => el.dataset.seq),
  );
  await ctx.close();
  return { ...b, failedSeqs: seqs };
}

async function tamper(mode) {
  const r = await fetch(`${cfg.base}/__proxy/tamper?m=${mode}`);
  if (!r.ok) throw new Error(`proxy mode ${mode}: ${r.status}`);
}

/** The proxy flips one byte: the badge turns red and names what failed, in the page's language. */
async function checkTampering(path) {
  const cases = [
    ["proof", /proof that it is in the log fails|bewijs van opname/],
    ["record-signed", /author's signature does not verify|handtekening van de auteur klopt niet/],
    ["record-time", /leaf hash does not match|leaf-hash klopt niet/],
    ["checkpoint", /checkpoint's signature does not verify|handtekening van het checkpoint klopt niet/],
    ["cosignature", /cosignature of witness \S+ does not verify|medeondertekening van getuige \S+ klopt niet/],
  ];
  for (const [mode, why] of cases) {
    await tamper(mode);
    try {
      const b = await visit(path);
      check(b.state === "failed" && why.test(b.text), `${path} with ${mode} flipped: badge failed — ${b.text}`);
      if (mode.startsWith("record") || mode === "proof")
        check(b.failedSeqs.length > 0, `${path} with ${mode} flipped: the failing record is marked`);
    } finally {
      await tamper("none");
    }
  }
}

/** What this browser remembers: the operator key it pinned, the checkpoint it saw. */
async function checkMemory(path) {
  const origin = await (await fetch(`${cfg.base}/v1/entries/0`)).json().then((g) => g.entry.body.origin);
  const setKey = {
    fn: ([o]) => localStorage.setItem(`meent.operator-key:${o}`, JSON.stringify({ key: "ab".repeat(32) })),
    arg: [origin],
  };
  let b = await visit(path, setKey);
  check(b.state === "failed" && /CHANGED|VERANDERD/.test(b.text), `${path}: another operator key pinned -> red — ${b.text}`);
  // The witnesses the page names are pinned too: another key under one's name is refused.
  const html = await (await fetch(`${cfg.base}${path}`)).text();
  const vkeys = [...html.matchAll(/<meta name="meent-witness" content="([^"]+)">/g)].map((m) => m[1]);
  check(vkeys.length > 0, `${path}: the page names the log's witnesses`);
  const name = (vkeys[0] || "x+").split("+")[0];
  const setWitness = {
    fn: ([o, n]) => localStorage.setItem(`meent.witness-keys:${o}`, JSON.stringify({ [n]: `${n}+00000000+AAAA` })),
    arg: [origin, name],
  };
  b = await visit(path, setWitness);
  check(b.state === "failed" && /CHANGED|VERANDERD/.test(b.text), `${path}: another key of witness ${name} pinned -> red — ${b.text}`);

  const root = Buffer.from(cfg.old.root_hex, "hex").toString("base64");
  const seen = "2026-12-03T10:00:00Z";
  const setOld = (r, s) => ({
    fn: ([o, size, rt, when]) =>
      localStorage.setItem(`meent.checkpoint:${o}`, JSON.stringify({ size, root: rt, seen: when })),
    arg: [origin, s, r, seen],
  });
  b = await visit(path, setOld(root, cfg.old.size));
  check(
    b.state === "ok" && /only grew since your visit of 3 December 2026|alleen gegroeid sinds uw bezoek van 3 december 2026/.test(b.text),
    `${path}: an earlier checkpoint (size ${cfg.old.size}) -> consistency proof ok — ${b.text}`,
  );
  const root2 = Buffer.from(cfg.old_pow2.root_hex, "hex").toString("base64");
  b = await visit(path, setOld(root2, cfg.old_pow2.size));
  check(b.state === "ok" && /grew|gegroeid/.test(b.text), `${path}: an earlier checkpoint (size ${cfg.old_pow2.size}) -> ok — ${b.text}`);
  await tamper("consistency");
  try {
    b = await visit(path, setOld(root, cfg.old.size));
    check(b.state === "failed" && /rewritten|herschreven/.test(b.text), `${path} with consistency flipped: badge failed — ${b.text}`);
  } finally {
    await tamper("none");
  }
  const wrong = Buffer.from(cfg.old.root_hex.replace(/^./, (c) => (c === "0" ? "1" : "0")), "hex").toString("base64");
  b = await visit(path, setOld(wrong, cfg.old.size));
  check(b.state === "failed" && /rewritten|herschreven/.test(b.text), `${path}: an earlier checkpoint with another root -> red — ${b.text}`);
  b = await visit(path, setOld(root, 1e9));
  check(b.state === "failed" && /shrank|gekrompen/.test(b.text), `${path}: an earlier, larger checkpoint -> red — ${b.text}`);
}

try {
  const pages = cfg.pages === "crawl" ? await crawl(await fresh()) : cfg.pages;
  console.log(`pages: ${pages.join(" ")}`);
  check(pages.length > 0, "the site has pages");
  const langs = await checkPages(pages);
  for (const s of cfg.shapes || []) check(langs.has(s), `the crawl reached a page of shape ${s}`);
  for (const [s, ls] of langs) check(ls.has("nl") && ls.has("en"), `${s}: rendered in Dutch and English (${[...ls]})`);
  const fund = pages.find((p) => /^\/nl\/funds\/warmtefonds-noord$/.test(p)) || pages.find((p) => /warmtefonds-noord/.test(p)) || pages[0];
  await screenshots(fund);
  await checkTampering(fund);
  await checkMemory(fund);
} catch (e) {
  check(false, `the checks stopped: ${e && e.stack ? e.stack : e}`);
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`\n${failures.length} check(s) failed:\n${failures.join("\n")}`);
  process.exit(1);
}
