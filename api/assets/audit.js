const esc = s => String(s ?? "").replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"}[c]));
const table = (cols, rows) => rows.length === 0 ? "<p class='muted'>none yet</p>" :
  "<table><tr>" + cols.map(c => `<th class="${c[2]||""}">${esc(c[0])}</th>`).join("") + "</tr>" +
  rows.map(r => "<tr>" + cols.map(c => `<td class="${c[2]||""}">${esc(c[1](r))}</td>`).join("") + "</tr>").join("") + "</table>";
async function get(path, text) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return text ? r.text() : r.json();
}
async function show(id, f) { try { document.getElementById(id).innerHTML = await f(); } catch (e) { document.getElementById(id).innerHTML = `<p class="bad">${esc(e.message)}</p>`; } }
document.querySelectorAll(".origin").forEach(e => e.textContent = location.origin);
get("/v1/checkpoint", true).then(t => document.getElementById("checkpoint").textContent = t)
  .catch(e => document.getElementById("checkpoint").textContent = e.message);
show("funds", async () => {
  const v = await get("/v1/funds");
  const funds = v.funds || [];
  return table([["fund", f => f.name ? `${f.name} (${f.id})` : f.id], ["members", f => (f.members || []).length, "num"],
    ["pledged €", f => f.balances?.pledged, "num"], ["confirmed €", f => f.balances?.confirmed, "num"], ["committed €", f => f.balances?.committed, "num"],
    ["disbursed €", f => f.balances?.disbursed, "num"], ["available €", f => f.balances?.available, "num"]], funds);
});
show("proposals", async () => {
  const v = await get("/v1/proposals");
  const ps = v.proposals || [];
  return table([["fund", p => p.fund], ["title", p => p.title], ["kind", p => p.proposal_kind], ["amount €", p => p.amount, "num"],
    ["yes", p => p.tally?.yes, "num"], ["no", p => p.tally?.no, "num"], ["abstain", p => p.tally?.abstain, "num"],
    ["status", p => p.status], ["outcome", p => p.outcome ?? "—"], ["closes at", p => p.closes_at]], ps);
});
show("rounds", async () => {
  const v = await get("/v1/rounds");
  return table([["fund", r => r.fund], ["round", r => (r.id || "").slice(0, 12)], ["budget €", r => r.budget, "num"], ["rule", r => r.rule],
    ["projects", r => r.project_count, "num"], ["ballots", r => r.ballot_count, "num"], ["status", r => r.status], ["closes at", r => r.closes_at]], v.rounds || []);
});
show("members", async () => {
  const v = await get("/v1/members");
  return table([["id", m => m.id], ["name", m => m.name ?? (m.registrar ? "(registrar)" : "")], ["kind", m => m.member_kind ?? ""], ["status", m => m.status]], v.members || []);
});
