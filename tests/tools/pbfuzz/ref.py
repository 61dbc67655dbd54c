#!/usr/bin/env python3
"""Reference selections with pabutools 1.2.3, following the project's PB.md (docs/GOVERNANCE.md explains the rules).

usage: ref.py FILE.pb RULE      -> prints selected ids, sorted as PB.md says
       ref.py FILE.pb all       -> one line per rule: RULE<TAB>ids
"""
import sys
from copy import deepcopy

from pabutools.election import (
    parse_pabulib,
    ApprovalBallot,
    ApprovalProfile,
    Cost_Sat,
    Cardinality_Sat,
)
from pabutools.election.instance import total_cost
from pabutools.rules import (
    greedy_utilitarian_welfare,
    method_of_equal_shares,
    completion_by_rule_combination,
    exhaustion_by_budget_increase,
    popularity_comparison,
)
from pabutools.tiebreaking import lexico_tie_breaking
from pabutools.fractions import frac

RULES = [
    "greedy_av", "greedy_card", "mes_cost", "mes_card", "mes_cost_add1",
    "mes_card_add1", "mes_cost_add1_noex", "mes_cost_add1u", "mes_card_add1u",
    "mes_cost_add1u_cmp",
]


def load(path):
    instance, profile = parse_pabulib(path)
    # PB.md: a ballot is the SET of project ids listed in the vote field,
    # whatever the vote type (points / ranks ignored).
    if not isinstance(profile, ApprovalProfile):
        ballots = []
        for b in profile:
            ab = ApprovalBallot(set(b))  # dict keys (cumulative/scoring) or list (ordinal)
            ballots.append(ab)
        profile = ApprovalProfile(ballots)
    return instance, profile


def greedy(instance, profile, sat, initial=None):
    return greedy_utilitarian_welfare(
        instance, profile, sat_class=sat, tie_breaking=lexico_tie_breaking,
        resoluteness=True, initial_budget_allocation=initial)


def mes(instance, profile, sat, initial=None):
    return method_of_equal_shares(
        instance, profile, sat_class=sat, tie_breaking=lexico_tie_breaking,
        resoluteness=True, initial_budget_allocation=initial)


def mes_add1(instance, profile, sat, initial=None):
    # pabutools' iterated MES: +1 per voter until exhaustive (w.r.t. the
    # supported positive-cost projects) or infeasible (-> previous outcome).
    return method_of_equal_shares(
        instance, profile, sat_class=sat, tie_breaking=lexico_tie_breaking,
        resoluteness=True, voter_budget_increment=1,
        initial_budget_allocation=initial)


def mes_cost_add1_noex(instance, profile):
    """PB.md: +1 per voter (budget_limit + k*n); stop when infeasible (return
    previous; k=0 -> empty) or when all positive-cost voted projects are
    selected. Each step is pabutools' method_of_equal_shares on an instance
    with budget B + k*n (per-voter budget B/n + k)."""
    n = profile.num_ballots()
    B = instance.budget_limit
    voted = set()
    for b in profile:
        voted.update(p.name for p in b)
    targets = {p.name for p in instance if p.cost > 0 and p.name in voted}
    previous = []
    k = 0
    cur = deepcopy(instance)
    while True:
        cur.budget_limit = B + k * n
        out = mes(cur, profile, Cost_Sat)
        if total_cost(out) > B:
            return previous
        names = {p.name for p in out}
        if targets <= names:
            return out
        previous = out
        k += 1


def mes_cost_add1_noex_pabutools(instance, profile, bound=None):
    """Same rule with pabutools' exhaustion_by_budget_increase (slow: runs to
    the budget bound when everything gets selected). Used for cross-checks."""
    n = profile.num_ballots()
    return exhaustion_by_budget_increase(
        instance, profile, method_of_equal_shares,
        rule_params={"sat_class": Cost_Sat, "tie_breaking": lexico_tie_breaking},
        exhaustive_stop=False, budget_step=n, budget_bound=bound)


def add1u(instance, profile, sat):
    # Add1, then greedy_av (cost utility) completion from that outcome.
    return completion_by_rule_combination(
        instance, profile,
        [method_of_equal_shares, greedy_utilitarian_welfare],
        [
            {"sat_class": sat, "voter_budget_increment": 1,
             "tie_breaking": lexico_tie_breaking},
            {"sat_class": Cost_Sat, "tie_breaking": lexico_tie_breaking},
        ],
    )


def add1u_cmp(instance, profile):
    w_mes = add1u(instance, profile, Cost_Sat)
    w_greedy = greedy(instance, profile, Cost_Sat)
    # popularity_comparison: each voter supports the outcome(s) giving the most
    # approved projects (Cardinality_Sat); ties in support -> first of the
    # sequence, i.e. W_mes.
    res = popularity_comparison(
        instance, profile, Cardinality_Sat,
        [lambda i, p, initial_budget_allocation=None: w_mes,
         lambda i, p, initial_budget_allocation=None: w_greedy],
    )
    return res[0]


def run(instance, profile, rule):
    if rule in ("greedy_av", "greedy"):
        return greedy(instance, profile, Cost_Sat)
    if rule == "greedy_card":
        return greedy(instance, profile, Cardinality_Sat)
    if rule == "mes_cost":
        return mes(instance, profile, Cost_Sat)
    if rule == "mes_card":
        return mes(instance, profile, Cardinality_Sat)
    if rule == "mes_cost_add1":
        return mes_add1(instance, profile, Cost_Sat)
    if rule == "mes_card_add1":
        return mes_add1(instance, profile, Cardinality_Sat)
    if rule in ("mes_cost_add1_noex", "equal_shares"):
        return mes_cost_add1_noex(instance, profile)
    if rule == "mes_cost_add1_noex_pabutools":
        return mes_cost_add1_noex_pabutools(instance, profile)
    if rule == "mes_cost_add1u":
        return add1u(instance, profile, Cost_Sat)
    if rule == "mes_card_add1u":
        return add1u(instance, profile, Cardinality_Sat)
    if rule == "mes_cost_add1u_cmp":
        return add1u_cmp(instance, profile)
    raise SystemExit(f"unknown rule {rule}")


def is_int(s):
    try:
        int(s)
        return s.strip() == s and s.lstrip("-").isdigit()
    except ValueError:
        return False


def fmt(instance, outcome):
    ids = [p.name for p in outcome]
    if all(is_int(p.name) for p in instance):
        ids.sort(key=int)
    else:
        ids.sort()
    return " ".join(ids)


def main():
    path, rule = sys.argv[1], sys.argv[2]
    rules = RULES if rule == "all" else [rule]
    for r in rules:
        instance, profile = load(path)
        out = run(instance, profile, r)
        if rule == "all":
            print(f"{r}\t{fmt(instance, out)}", flush=True)
        else:
            print(fmt(instance, out))


if __name__ == "__main__":
    main()
