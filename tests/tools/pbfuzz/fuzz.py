"""Differential fuzz: random pabulib files, every rule, meent against pabutools (ref.py).

usage: python3 fuzz.py FIRST_SEED STOP_SEED [DEADLINE_UNIX_TIME]   (see README.md)
"""
import subprocess, sys, json, os, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import gen
RULES = ["greedy_av","greedy_card","mes_cost","mes_card","mes_cost_add1","mes_card_add1",
         "mes_cost_add1_noex","mes_cost_add1u","mes_card_add1u","mes_cost_add1u_cmp"]
start, stop = int(sys.argv[1]), int(sys.argv[2])
deadline = float(sys.argv[3]) if len(sys.argv) > 3 else 1e18
MEENT = os.environ.get("MEENT", "target/release/meent")
HERE = os.path.dirname(os.path.abspath(__file__))
os.makedirs("files", exist_ok=True)
log = open("fuzz.jsonl", "a")
def ids_of(path):
    lines = open(path, encoding="utf-8").read().splitlines()
    i = lines.index("PROJECTS") + 2; ids = []
    while lines[i] != "VOTES":
        ids.append(lines[i].split(";")[0]); i += 1
    return ids
def isint(s):
    return s.lstrip("-").isdigit()
for seed in range(start, stop):
    if time.time() > deadline: break
    path = f"files/f{seed}.pb"
    open(path, "w").write(gen(seed))
    t0 = time.time()
    try:
        r = subprocess.run(["nice","-n","19","python3",os.path.join(HERE, "ref.py"),path,"all"], capture_output=True, text=True, timeout=120)
        ref = dict(l.split("\t",1) for l in r.stdout.splitlines())
        referr = r.stderr.strip()[-400:] if r.returncode else ""
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if e.stdout else ""
        ref = dict(l.split("\t",1) for l in out.splitlines()); referr = "timeout"
    tref = time.time() - t0
    ids = ids_of(path)
    for rule in RULES:
        try:
            m = subprocess.run(["nice","-n","19",MEENT,"pb",path,"--rule",rule], capture_output=True, text=True, timeout=60)
            mout, mrc, merr = m.stdout.strip(), m.returncode, m.stderr.strip()[-400:]
        except subprocess.TimeoutExpired:
            mout, mrc, merr = "", -999, "timeout"
        rec = {"seed": seed, "rule": rule, "meent": mout, "rc": mrc}
        if merr: rec["merr"] = merr
        if rule in ref:
            rec["ref"] = ref[rule]
            toks = mout.split()
            exp_order = sorted(toks, key=int) if all(isint(x) for x in ids) else sorted(toks)
            rec["same"] = (mrc == 0 and set(toks) == set(ref[rule].split()))
            rec["order_ok"] = toks == exp_order
            rec["exact"] = mout == ref[rule]
        else:
            rec["ref"] = None; rec["referr"] = referr
        log.write(json.dumps(rec) + "\n"); log.flush()
        if rec.get("ref") is not None and not (rec["same"] and rec["order_ok"] and rec["exact"]):
            print("DIFF", rec, flush=True)
        if mrc != 0:
            print("MEENT-ERR", rec, flush=True)
    if referr: print("REFERR", seed, referr[-200:], flush=True)
    print(f"seed {seed} ref {tref:.1f}s", flush=True)
