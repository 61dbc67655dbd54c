#!/usr/bin/env python3
"""Random pabulib files. usage: gen.py SEED OUT.pb"""
import random as _random, sys
from decimal import Decimal

ALPHA = ["a", "b", "c", "A", "B", "Z", "aa", "ab", "b1", "b10", "b2", "p9", "p10",
         "p100", "x", "y", "proj_1", "proj-2", "Ä", "é", "z", "m", "n", "q", "r",
         "s", "t", "u", "v", "w", "k", "kk", "ka", "K"]


def fmt_amount(v, decimals, comma):
    if decimals:
        s = f"{v:.2f}" if R.random() < 0.8 else f"{v:.1f}"
    else:
        s = str(int(v))
    if comma:
        s = s.replace(".", ",")
    return s


def gen(seed):
    global R
    rnd = _random.Random(seed)
    R = rnd
    import os
    small = rnd.random() < (0.0 if os.environ.get("GEN_LARGE") else 0.7)
    m = rnd.randint(3, 10 if small else 25)
    n = rnd.randint(5, 30 if small else 150)
    if os.environ.get("GEN_VOTERS"):
        # Many voters (e.g. 1500): past the tiny engine, onto the certified one.
        top = int(os.environ["GEN_VOTERS"])
        m = rnd.randint(15, 25)
        n = rnd.randint(top // 2, top)

    # ids
    style = rnd.choice(["num", "num", "num", "alpha", "mixed"])
    if style == "num":
        pool = list(range(1, 13)) + [9, 10, 100, 99, 101, 1000, 20, 21, 200, 19, 90, 91, 1001, 55]
        ids = []
        for x in rnd.sample(sorted(set(pool)), min(m, len(set(pool)))):
            ids.append(str(x))
        while len(ids) < m:
            x = str(rnd.randint(1, 5000))
            if x not in ids:
                ids.append(x)
    elif style == "alpha":
        ids = rnd.sample(ALPHA, m)
    else:
        pool = ALPHA + ["9", "10", "100", "2", "11", "1"]
        ids = rnd.sample(pool, m)
    rnd.shuffle(ids)

    # costs
    decimals = rnd.random() < 0.35
    comma = decimals and rnd.random() < 0.25
    scale = rnd.choice([5, 20, 100, 100, 500, 1000, 2000])
    distinct = [rnd.randint(1, 10) * scale // rnd.choice([1, 1, 2]) for _ in range(rnd.randint(1, 4))]
    costs = {}
    for p in ids:
        r = rnd.random()
        if r < 0.08:
            c = Decimal(0)
        elif r < 0.55:
            c = Decimal(rnd.choice(distinct))  # ties on cost
        else:
            c = Decimal(rnd.randint(1, 10 * scale))
        if decimals and c > 0 and rnd.random() < 0.6:
            c = c + Decimal(rnd.randint(0, 99)) / 100
        costs[p] = c
    total = sum(costs.values())
    r = rnd.random()
    if r < 0.15:
        budget = total + Decimal(rnd.randint(0, 3 * scale))  # larger than total
    elif r < 0.2:
        budget = total
    else:
        budget = (total * Decimal(rnd.uniform(0.1, 0.9))).quantize(Decimal("1"))
        if budget <= 0:
            budget = Decimal(max(1, scale))
    if decimals and rnd.random() < 0.5:
        budget += Decimal(rnd.randint(1, 99)) / 100

    # votes
    vote_type = rnd.choice(["approval", "approval", "approval", "choose-1",
                            "cumulative", "scoring", "ordinal"])
    pop = {p: (0 if rnd.random() < 0.15 else rnd.random()) for p in ids}
    if all(v == 0 for v in pop.values()):
        pop[ids[0]] = 1.0
    templates = []
    for _ in range(rnd.randint(1, 6)):
        if vote_type == "choose-1":
            k = 1
        else:
            k = rnd.randint(1, min(m, 6))
        cand = [p for p in ids if pop[p] > 0]
        if not cand:
            cand = ids[:1]
        weights = [pop[p] for p in cand]
        b = []
        for _ in range(k):
            x = rnd.choices(cand, weights)[0]
            if x not in b:
                b.append(x)
        templates.append(b)
    ballots = []
    for i in range(n):
        r = rnd.random()
        if r < 0.06:
            b = []
        elif r < 0.5:
            b = list(rnd.choice(templates))
        else:
            if vote_type == "choose-1":
                k = 1
            else:
                k = rnd.randint(1, min(m, 7))
            cand = [p for p in ids if pop[p] > 0] or ids[:1]
            b = []
            for _ in range(k):
                x = rnd.choices(cand, [pop[p] for p in cand])[0]
                if x not in b:
                    b.append(x)
        ballots.append(b)

    votes = {p: 0 for p in ids}
    for b in ballots:
        for p in b:
            votes[p] += 1

    L = []
    L.append("META")
    L.append("key;value")
    L.append(f"description;random fuzz instance seed {seed}")
    L.append("country;Fuzzland")
    L.append("unit;Fuzz")
    L.append(f"instance;{seed}")
    L.append(f"num_projects;{m}")
    L.append(f"num_votes;{n}")
    L.append(f"budget;{fmt_amount(budget, decimals, comma)}")
    L.append(f"vote_type;{vote_type}")
    L.append("rule;greedy")
    if vote_type == "cumulative":
        L.append("max_sum_points;10")
    if vote_type == "scoring":
        L.append("min_points;1")
        L.append("max_points;5")
    if vote_type == "ordinal":
        L.append("scoring_fn;Borda")
    L.append("PROJECTS")
    L.append("project_id;cost;votes;name")
    for p in ids:
        c = costs[p]
        L.append(f"{p};{fmt_amount(c, decimals, comma)};{votes[p]};project {p}")
    L.append("VOTES")
    if vote_type in ("cumulative", "scoring"):
        L.append("voter_id;vote;points")
    else:
        L.append("voter_id;vote")
    for i, b in enumerate(ballots):
        vid = str(i + 1)
        if vote_type == "cumulative":
            if b:
                pts = [1] * len(b)
                for _ in range(10 - len(b)) if len(b) < 10 else []:
                    pts[rnd.randrange(len(b))] += 1
                L.append(f"{vid};{','.join(b)};{','.join(map(str, pts))}")
            else:
                L.append(f"{vid};")
        elif vote_type == "scoring":
            if b:
                pts = [rnd.randint(1, 5) for _ in b]
                L.append(f"{vid};{','.join(b)};{','.join(map(str, pts))}")
            else:
                L.append(f"{vid};")
        else:
            L.append(f"{vid};{','.join(b)}")
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    seed = int(sys.argv[1])
    with open(sys.argv[2], "w") as f:
        f.write(gen(seed))
