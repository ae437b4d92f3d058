"""The table of a benchmark run: one row per figure with cohort's value,
the peer's from the same run, their ratio (always oriented so that > 1
means cohort is better), the issue's goal and whether it is met."""


def why(part):
    """The reason a part has no figures, or None."""
    if not isinstance(part, dict):
        return "not run"
    if "unavailable" in part:
        return "not available: " + part["unavailable"]
    if "failed" in part:
        return "failed: " + part["failed"]
    return None


def get(d, *path):
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def ms(v):
    if v is None:
        return "-"
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}"


def lat3(p):
    """p50/p99/max in ms."""
    return f"{ms(p.get('p50_ms'))}/{ms(p.get('p99_ms'))}/" \
           f"{ms(p.get('max_ms'))} ms"


def num(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def verdict(ok):
    return "-" if ok is None else ("met" if ok else "MISSED")


def ratio_cell(ratio):
    """Three digits below 1, so that a ratio just under a goal (0.497
    against 0.5) never prints as the goal itself."""
    if ratio is None:
        return None
    return round(ratio, 3) if ratio < 1 else round(ratio, 2)


def row(figure, cohort, peer="", ratio=None, goal="", ok=None):
    return {"figure": figure, "cohort": cohort, "peer": peer,
            "ratio": ratio_cell(ratio),
            "goal": goal, "verdict": verdict(ok)}


def fleet_rows(res):
    out = []
    fleet = res.get("fleet")
    w = why(fleet)
    goals = {1000: (100, "p99 <= 100 ms"), 10000: (1000, "p99 <= 1 s")}
    for n in (100, 1000, 10000):
        limit, goal = goals.get(n, (None, ""))
        f = get(fleet, "fanout", str(n))
        if f is None:
            text = w or ("not run (quick)" if n not in
                         res["config"]["fanout_sizes"] else "no figure")
            out.append(row(f"fan-out N={n} p50/p99/max", text, goal=goal))
            continue
        ok = None if limit is None else f["p99_ms"] <= limit
        out.append(row(f"fan-out N={n} p50/p99/max", lat3(f), goal=goal,
                       ok=ok))
    r = get(fleet, "renew", "renewals_per_s")
    ng = get(fleet, "renew_nginx")
    ngr = get(ng, "renewals_per_s")
    peer = f"nginx {num(ngr)}/s" if ngr else (why(ng) or "-")
    ratio = r / ngr if r and ngr else None
    out.append(row(f"idle poll renewals/s, N={res['config']['renew_n']}",
                   f"{num(r)}/s" if r else (w or "-"), peer, ratio,
                   ">= 0.5 x nginx", None if ratio is None else ratio >= 0.5))
    rss = get(fleet, "master_rss")
    per = get(rss, "per_target_bytes")
    out.append(row(
        "master RSS per idle target",
        f"{per / 1024:.1f} KiB (N={rss['targets']}: {rss['idle_kib']} -> "
        f"{rss['connected_kib']} KiB)" if per else (w or "-"),
        goal="<= 16 KiB", ok=None if per is None else per <= 16 * 1024))
    ing = get(fleet, "ingest", "outcomes_per_s")
    out.append(row("history ingest, outcomes/s (SQLite)",
                   f"{num(ing)}/s" if ing else (w or "-"),
                   goal=">= 10,000/s", ok=None if ing is None else
                   ing >= 10000))
    return out


def target_rows(res):
    out = []
    t = res.get("target")
    w = why(t)
    idle = get(t, "idle")
    wi = w or why(idle)
    out.append(row("target idle RssAnon (RssFile beside)",
                   wi or f"{idle['rss_anon_kib']} KiB (RssFile "
                   f"{idle['rss_file_kib']} KiB)", goal="<= 4 MiB",
                   ok=None if wi else idle["rss_anon_kib"] <= 4096))
    out.append(row(f"target idle CPU over {res['config']['idle_s']} s",
                   wi or f"{idle['cpu_s']:.2f} s ({idle['cpu_pct']:.3f} %)",
                   goal="~0", ok=None if wi else idle["cpu_pct"] < 0.1))
    s = get(t, "sched_latency")
    ws = w or why(s)
    base = get(s, "exec_baseline")
    sync = get(s, "fsync_baseline")
    floors = ("bare spawn " + lat3(base) if base else "") + \
        ("; one fdatasync " + lat3(sync) if sync else "")
    out.append(row("schedule due -> process started p50/p99/max",
                   ws or lat3(s), floors,
                   base["p99_ms"] / s["p99_ms"] if base and not ws and
                   s["p99_ms"] > 0 else None, goal="p99 <= 5 ms",
                   ok=None if ws else s["p99_ms"] <= 5))
    return out


def peer_rows(res):
    out = []
    t, pg, sl = res.get("target"), res.get("pgagent"), res.get("slurm")
    # pgAgent: one job due -> step started
    c = get(t, "sched_latency")
    p = get(pg, "single")
    cw, pw = why(t) or why(c), why(pg)
    ratio = p["p99_ms"] / c["p99_ms"] if not (cw or pw) and c["p99_ms"] \
        > 0 else None
    out.append(row("due -> step started, one job p50/p99/max",
                   cw or lat3(c), pw or "pgAgent " + lat3(p), ratio))
    n = res["config"]["due_n"]
    c = get(t, "due_at_once")
    p = get(pg, "due_at_once")
    cw, pw = why(t) or why(c), why(pg)
    out.append(row(f"{n} jobs due at once: due -> started p50/p99",
                   cw or f"{ms(c['p50_ms'])}/{ms(c['p99_ms'])} ms",
                   pw or f"pgAgent {ms(p['p50_ms'])}/{ms(p['p99_ms'])} ms",
                   None if cw or pw else p["p99_ms"] / c["p99_ms"]))
    extra = "" if pw else f" ({p['extra_runs']} extra runs, " \
        f"{p['not_succeeded']} not succeeded)"
    out.append(row(f"{n} jobs due at once: jobs completed/s",
                   cw or f"{num(c['jobs_per_s'])}/s",
                   pw or f"pgAgent {num(p['jobs_per_s'])}/s{extra}",
                   None if cw or pw else c["jobs_per_s"] / p["jobs_per_s"]))
    j = res["config"]["slurm_jobs"]
    c = get(t, "many_starts")
    p = get(sl, "batch")
    cw, pw = why(t) or why(c), why(sl)
    out.append(row(f"{j} trivial jobs, submit -> all done: jobs/s",
                   cw or f"{num(c['jobs_per_s'])}/s (job start x{j})",
                   pw or f"Slurm {num(p['jobs_per_s'])}/s (sbatch x{j}"
                   + (f", {p['held']} held after a failed launch)"
                      if p.get("held") else ")"),
                   None if cw or pw else c["jobs_per_s"] / p["jobs_per_s"]))
    c = get(t, "start_to_outcome")
    p = get(sl, "srun_true")
    cw = why(t) or why(c)
    out.append(row("run `true` on one node, wall p50/p99",
                   cw or f"{ms(c['p50_ms'])}/{ms(c['p99_ms'])} ms (start->"
                   "outcome)", pw or f"Slurm srun {ms(p['p50_ms'])}/"
                   f"{ms(p['p99_ms'])} ms",
                   None if cw or pw else p["p50_ms"] / c["p50_ms"]))
    return out


def rows(res):
    return fleet_rows(res) + target_rows(res) + peer_rows(res)


def render(res, table):
    cols = ("figure", "cohort", "peer", "ratio", "goal", "verdict")
    cells = [[str(r[c]) if r[c] not in (None, "") else "" for c in cols]
             for r in table]
    width = [max(len(c), *(len(x[i]) for x in cells))
             for i, c in enumerate(cols)]
    lines = [f"cohort bench ({res['mode']}), {res['started']}, "
             f"{res['cores']} cores shared with other jobs (load average "
             f"{res['loadavg_start'][0]:.2f} at start, "
             f"{res['loadavg_end'][0]:.2f} at end), {res['wall_s']} s",
             "ratio: how many times better cohort is than the peer "
             "(> 1: cohort better); against a bare spawn (vfork+exec), the share "
             "of the latency that is the exec itself (1: no overhead)",
             "  ".join(c.ljust(width[i]) for i, c in enumerate(cols)),
             "  ".join("-" * w for w in width)]
    for x in cells:
        lines.append("  ".join(v.ljust(width[i]) for i, v in
                               enumerate(x)).rstrip())
    for k in ("pgagent", "slurm"):
        cfg = get(res, k, "config")
        if cfg:
            lines.append(f"{k}: {cfg}")
    ng = get(res, "fleet", "renew_nginx", "server")
    if ng:
        lines.append(f"nginx: {ng}, same fleet client, same "
                     f"{res['config']['renew_n']} connections and body size")
    return "\n".join(lines)
