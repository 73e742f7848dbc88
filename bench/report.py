#!/usr/bin/python3
"""bench/report.py OUT_DIR - tables, ratios and charts from bench/run.sh's results.

Reads OUT_DIR/raw.tsv (one line a measurement: wall time of the client
process; repetitions are reduced to their median here), turns.tsv (round
trips counted by bench/delay_proxy.py, when present), the smtpc-bench
JSON each smtpc line names (a path relative to OUT_DIR), machine.json,
encoder.jsonl, callgrind.tsv and runs/rtt-probe-*.json.  Writes
results.json (everything), results.csv (throughput with ratios), results.md
(the tables docs/BENCHMARKS.md quotes) and PNG charts drawn with gnuplot.
Standard library only (Debian's /usr/bin/python3).
"""
import csv
import json
import os
import shutil
import subprocess
import sys

SCENARIOS = {
    "a": "(a) small messages, one connection",
    "b": "(b) sessions in parallel",
    "c": "(c) one message per connection",
    "d": "(d) one large message",
}
SERVERS = {"sink": "smtp-sink (DATA, PIPELINING)",
           "mta": "Postfix smtpd (CHUNKING, PIPELINING)"}


def load_json(path):
    try:
        with open(path) as f:
            text = f.read().strip()
        return json.loads(text.splitlines()[-1]) if text else None
    except (OSError, ValueError, IndexError):
        return None


def fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        if abs(v) >= 100:
            return "{:,.0f}".format(v)
        return "{:.{}f}".format(v, digits)
    return str(v)


def read_rows(out):
    """One row per measurement key: the median of its repetitions."""
    groups = {}
    order = []
    with open(os.path.join(out, "raw.tsv")) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            key = (r["section"], r["scenario"], r["server"], r["tool"])
            if key not in groups:
                groups[key] = []
                order.append(key)
            r["messages"] = int(r["messages"])
            r["msg_bytes"] = int(r["msg_bytes"])
            r["seconds"] = float(r["seconds"])
            path = r["output"] if os.path.isabs(r["output"]) else os.path.join(out, r["output"])
            r["json"] = load_json(path) if r["tool"].startswith("smtpc") else None
            if r["json"] is not None and r["json"].get("failed"):
                r["status"] = "fail(%d failed)" % r["json"]["failed"]
            groups[key].append(r)
    rows = []
    for key in order:
        reps = sorted(groups[key], key=lambda x: x["seconds"])
        r = dict(reps[(len(reps) - 1) // 2])
        r["all_seconds"] = [x["seconds"] for x in groups[key]]
        bad = [x["status"] for x in reps if x["status"] != "ok"]
        r["status"] = bad[0] if bad else "ok"
        r["msgs_per_s"] = r["messages"] / r["seconds"] if r["seconds"] > 0 else None
        r["mb_per_s"] = (r["messages"] * r["msg_bytes"] / r["seconds"] / 1e6
                         if r["seconds"] > 0 else None)
        rows.append(r)
    return rows


def throughput_tables(rows):
    """Per (server, scenario): the tools' rates and smtpc's ratio to each."""
    out = []
    for sv in SERVERS:
        for sc in SCENARIOS:
            sel = [r for r in rows if r["section"] == "tput" and r["server"] == sv
                   and r["scenario"] == sc]
            if not sel:
                continue
            ref = next((r for r in sel if r["tool"] == "smtpc"), None)
            for r in sel:
                ratio = None
                if ref and r is not ref and r["msgs_per_s"] and r["status"] == "ok":
                    ratio = ref["msgs_per_s"] / r["msgs_per_s"]
                r["smtpc_ratio"] = ratio
            out.append((sv, sc, sel))
    return out


def rtt_rows(out, rows):
    probes = {}
    for sv in SERVERS:
        p = load_json(os.path.join(out, "runs", "rtt-probe-%s.json" % sv))
        if p:
            probes[sv] = p["rtt_ms"]
    res = []
    for r in rows:
        if r["section"] != "rtt" or r["server"] not in probes:
            continue
        rtt = probes[r["server"]]
        j = r["json"]
        e = {"server": r["server"], "scenario": r["scenario"], "tool": r["tool"],
             "messages": r["messages"], "rtt_ms": rtt, "status": r["status"],
             "wall_rtts_per_msg": r["seconds"] * 1000.0 / r["messages"] / rtt}
        if j:
            e["latency_mean_ms"] = j["latency_ms"]["mean"]
            e["rtts_per_msg"] = j["latency_ms"]["mean"] / rtt
            # (elapsed - setup) / K / RTT, as the issue states it: the
            # elapsed time also holds the QUIT round trip.
            e["formula_rtts_per_msg"] = ((j["seconds"] * 1000.0 - j["setup_ms"]["mean"])
                                         / r["messages"] / rtt)
            e["pipelining"] = j["pipelining"]
            e["chunking"] = j["chunking"]
            if r["scenario"] == "newconn":
                e["rtts_per_msg"] = j["seconds"] * 1000.0 / r["messages"] / rtt
        res.append(e)
    return probes, res


TURN_MODES = [
    ("new", "one message per new connection"),
    ("new-tls", "... with STARTTLS"),
    ("new-tls-auth", "... with STARTTLS + AUTH PLAIN"),
    ("new-tls-auth-cached", "... the same, TLS session cached (--tls-session-cache)"),
    ("reuse100", "100 messages on one connection"),
    ("rcpt100", "one message to 100 recipients per new connection"),
]
TURN_SERVERS = {"sink": "smtp-sink", "mta": "Postfix", "mtad": "Postfix, DATA only",
                "aio": "aiosmtpd"}
TURN_TOOLS = ["smtpc-bench", "smtpc-bench-no-chunking", "smtpc", "smtp-source",
              "smtp-source-d", "curl", "msmtp", "swaks"]


def read_turns(out, rows, probes):
    """turns.tsv: one line per client run, turns summed over its connections."""
    path = os.path.join(out, "turns.tsv")
    if not os.path.exists(path):
        return []
    wall = {(r["scenario"], r["server"], r["tool"]): r for r in rows if r["section"] == "rtt"}
    probes = dict(probes)
    for sv in TURN_SERVERS:
        p = load_json(os.path.join(out, "runs", "rtt-probe-%s.json" % sv))
        if p and sv not in probes:
            probes[sv] = p["rtt_ms"]
    res = []
    with open(path) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            e = {"mode": r["mode"], "server": r["server"], "tool": r["tool"],
                 "messages": int(r["messages"]), "connections": int(r["connections"]),
                 "turns": int(r["turns"]),
                 "turns_per_message": int(r["turns"]) / int(r["messages"]),
                 "per_connection": [int(x) for x in r["per_connection"].split()]}
            w = wall.get((r["mode"], r["server"], r["tool"]))
            if w is not None:
                e["status"] = w["status"]
                if r["server"] in probes:
                    e["wall_rtts_per_message"] = (w["seconds"] * 1000.0 / w["messages"]
                                                  / probes[r["server"]])
            res.append(e)
    return res


def md_turns(turns):
    if not turns:
        return ""
    tools = [t for t in TURN_TOOLS if any(e["tool"] == t for e in turns)]
    lines = ["Round trips per message, counted by the delay proxy (turns: the "
             "client's waits for the server; a new connection's TCP handshake "
             "not included).  Cells: turns per message (wall time / messages / "
             "RTT in brackets).", "",
             "| mode | server | " + " | ".join(tools) + " |",
             "|---|---|" + "---:|" * len(tools)]
    for mode, title in TURN_MODES:
        for sv in TURN_SERVERS:
            sel = {e["tool"]: e for e in turns if e["mode"] == mode and e["server"] == sv}
            if not sel:
                continue
            cells = []
            for t in tools:
                e = sel.get(t)
                if e is None:
                    cells.append("-")
                    continue
                c = fmt(e["turns_per_message"], 2)
                if e.get("wall_rtts_per_message") is not None:
                    c += " (%.2f)" % e["wall_rtts_per_message"]
                if e.get("status", "ok") != "ok":
                    c += " " + e["status"]
                cells.append(c)
            lines.append("| %s | %s | %s |" % (title, TURN_SERVERS[sv], " | ".join(cells)))
    lines.append("")
    return "\n".join(lines)


def chart_turns(out, term, turns):
    if not turns:
        return
    tools = [t for t in TURN_TOOLS if any(e["tool"] == t for e in turns)]
    groups = [(m, sv) for m, _ in TURN_MODES for sv in TURN_SERVERS
              if any(e["mode"] == m and e["server"] == sv for e in turns)]
    dat = os.path.join(out, "runs", "turns.dat")
    with open(dat, "w") as f:
        f.write("group " + " ".join('"%s"' % t for t in tools) + "\n")
        for m, sv in groups:
            vals = []
            for t in tools:
                e = next((x for x in turns if x["mode"] == m and x["server"] == sv
                          and x["tool"] == t), None)
                vals.append("%.3f" % e["turns_per_message"] if e else "-")
            f.write('"%s\\n%s" %s\n' % (m, TURN_SERVERS[sv], " ".join(vals)))
    cols = " , ".join("'%s' using %d:xtic(1) title columnheader(%d)" % (dat, i + 2, i + 2)
                      for i in range(len(tools)))
    plot(out, "round-trips-per-message", """set terminal %s
set output '%s'
set title "Round trips per message, counted by the delay proxy (lower is better)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set datafile missing '-'
set logscale y
set yrange [0.8:200]
set ytics (1, 2, 3, 4, 5, 6, 8, 10, 12, 20, 50, 100)
set ylabel 'round trips (turns) per message, log scale'
set bmargin 4
set key top left
set grid ytics
plot %s
""" % (term, os.path.join(out, "round-trips-per-message.png"), cols))


def read_tls_resumption(out):
    path = os.path.join(out, "tls_resumption.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def md_tls_resumption(tls):
    if not tls:
        return ""
    lines = ["| backend | protocol | handshake | turns per connection (proxy) | "
             "start_tls time / RTT | handshake CPU, client (ms) | whole connection CPU, "
             "client (ms) | server CPU per connection (ms) | resumed |",
             "|---|---|---|---|---:|---:|---:|---:|---|"]
    for e in tls:
        d = e["direct"]
        lines.append("| %s | %s | %s | %s | %.2f | %.3f | %.3f | %s | %d of %d |" % (
            e["backend"], e["protocol"].split(" ")[0],
            "resumed" if e["resume"] else "full",
            " ".join(str(t) for t in e["turns_per_connection"]), e["handshake_rtts"],
            d["handshake_cpu_ms_mean"], d["client_cpu_ms_per_connection"],
            fmt(d.get("server_cpu_ms_per_connection"), 3), d["resumed"], d["connections"]))
    lines.append("")
    return "\n".join(lines)


def read_callgrind(out):
    res = []
    path = os.path.join(out, "callgrind.tsv")
    if not os.path.exists(path):
        return res
    with open(path) as f:
        for line in f:
            kind, name, ir, n = line.rstrip("\n").split("\t")
            if not ir:
                continue
            res.append({"kind": kind, "name": name, "instructions": int(ir.replace(",", "")),
                        "units": int(n), "per_unit": int(ir.replace(",", "")) / int(n)})
    return res


def read_encoder(out):
    res = []
    path = os.path.join(out, "encoder.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            res = [json.loads(l) for l in f if l.strip()]
    return res


def memory_rows(rows):
    res = []
    for r in rows:
        if r["tool"] == "smtpc" and r["json"] and r["section"] in ("mem", "tput"):
            if r["section"] == "tput" and r["scenario"] not in ("a", "d"):
                continue
            res.append({"server": r["server"], "section": r["section"],
                        "scenario": r["scenario"], "messages": r["messages"],
                        "size": r["json"]["size"], "sessions": r["json"]["sessions"],
                        "max_rss_kb": r["json"]["max_rss_kb"]})
    return res


# ------------------------------------------------------------------ markdown

def md_throughput(tables):
    lines = []
    for sv, sc, sel in tables:
        big = sc == "d"
        lines.append("#### %s, %s\n" % (SCENARIOS[sc], SERVERS[sv]))
        if big:
            lines.append("| client | messages | seconds | MB/s | smtpc is x faster | status |")
            lines.append("|---|---:|---:|---:|---:|---|")
        else:
            lines.append("| client | messages | seconds | messages/s | smtpc is x faster | "
                         "p50 / p99 latency (ms) | status |")
            lines.append("|---|---:|---:|---:|---:|---|---|")
        for r in sel:
            lat = "-"
            if r["json"]:
                lat = "%.3f / %.3f" % (r["json"]["latency_ms"]["p50"],
                                       r["json"]["latency_ms"]["p99"])
            ratio = fmt(r["smtpc_ratio"], 2) + "x" if r["smtpc_ratio"] else "-"
            if big:
                lines.append("| %s | %d | %.3f | %s | %s | %s |" % (
                    r["tool"], r["messages"], r["seconds"], fmt(r["mb_per_s"]), ratio,
                    r["status"]))
            else:
                lines.append("| %s | %d | %.3f | %s | %s | %s | %s |" % (
                    r["tool"], r["messages"], r["seconds"], fmt(r["msgs_per_s"]), ratio,
                    lat, r["status"]))
        lines.append("")
    return "\n".join(lines)


def md_rtt(probes, rtts):
    lines = ["Probe (NOOP round trip through the proxy): " +
             ", ".join("%s %.2f ms" % (k, v) for k, v in probes.items()), ""]
    lines.append("| server | test | client | messages | round trips per message "
                 "(mean send latency / RTT) | (elapsed - setup) / K / RTT | "
                 "wall time / messages / RTT | status |")
    lines.append("|---|---|---|---:|---:|---:|---:|---|")
    for e in rtts:
        lines.append("| %s | %s | %s | %d | %s | %s | %s | %s |" % (
            e["server"], e["scenario"], e["tool"], e["messages"],
            fmt(e.get("rtts_per_msg"), 2), fmt(e.get("formula_rtts_per_msg"), 2),
            fmt(e["wall_rtts_per_msg"], 2), e["status"]))
    lines.append("")
    return "\n".join(lines)


def md_nagle(rows):
    sel = [r for r in rows if r["section"] == "nagle" and r["json"]]
    if not sel:
        return ""
    lines = ["| client | messages | latency p50 (ms) | mean (ms) | max (ms) | status |",
             "|---|---:|---:|---:|---:|---|"]
    for r in sel:
        l = r["json"]["latency_ms"]
        lines.append("| %s | %d | %.2f | %.2f | %.2f | %s |" % (
            r["tool"], r["messages"], l["p50"], l["mean"], l["max"], r["status"]))
    lines.append("")
    return "\n".join(lines)


def md_encoder(enc, cg):
    lines = ["| variant | GB/s (best of 5) | instructions per byte (callgrind) |",
             "|---|---:|---:|"]
    ipb = {c["name"]: c["per_unit"] for c in cg if c["kind"] == "encoder"}
    for e in enc:
        lines.append("| %s | %.2f | %s |" % (e["variant"], e["gb_per_second"],
                                              fmt(ipb.get(e["variant"]), 2)))
    lines.append("")
    msg = [c for c in cg if c["kind"] == "message"]
    if msg:
        lines.append("| per message (inside smtpc_client_send) | messages | instructions "
                     "per message |")
        lines.append("|---|---:|---:|")
        for c in msg:
            lines.append("| %s | %d | %s |" % (c["name"], c["units"], fmt(c["per_unit"])))
        lines.append("")
    return "\n".join(lines)


def md_memory(mem, sizes):
    lines = []
    if sizes:
        lines += ["Fixed memory of the library (no allocation anywhere): "
                  "sizeof(smtpc_session) = %d bytes, sizeof(smtpc_client) = %d bytes "
                  "(session included), plus the caller's I/O buffer (at least %d bytes; "
                  "smtpc-bench uses 64 KiB per session)." % (
                      sizes["sizeof_session"], sizes["sizeof_client"], sizes["io_min"]), ""]
    lines += ["| run | server | messages | body size | max RSS (KiB) |", "|---|---|---:|---:|---:|"]
    for m in mem:
        lines.append("| %s %s | %s | %d | %d | %d |" % (
            m["section"], m["scenario"], m["server"], m["messages"], m["size"],
            m["max_rss_kb"]))
    lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------ charts

def gnuplot_available():
    return shutil.which("gnuplot") is not None


def terminal():
    try:
        t = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True,
                           text=True, timeout=20)
        if "pngcairo" in (t.stdout + t.stderr):
            return "pngcairo size 960,540 font 'Sans,10'"
    except (OSError, subprocess.SubprocessError):
        pass
    return "png size 960,540"


def plot(out, name, script):
    gp = os.path.join(out, "runs", name + ".gp")
    with open(gp, "w") as f:
        f.write(script)
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        print("report.py: gnuplot %s: %s" % (name, r.stderr.strip()), file=sys.stderr)


def chart_throughput(out, term, tables, server, tools, fname, title):
    sel = [(sc, rows) for sv, sc, rows in tables if sv == server and sc in "abc"]
    if not sel:
        return
    dat = os.path.join(out, "runs", fname + ".dat")
    with open(dat, "w") as f:
        f.write("scenario " + " ".join('"%s"' % t for t in tools) + "\n")
        for sc, rows in sel:
            vals = []
            for t in tools:
                r = next((x for x in rows if x["tool"] == t and x["status"] == "ok"), None)
                vals.append("%.1f" % r["msgs_per_s"] if r else "-")
            f.write('"%s" %s\n' % (SCENARIOS[sc].split(") ")[0] + ")", " ".join(vals)))
    cols = " , ".join("'%s' using %d:xtic(1) title columnheader(%d)" % (dat, i + 2, i + 2)
                      for i in range(len(tools)))
    plot(out, fname, """set terminal %s
set output '%s'
set title "%s"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set datafile missing '-'
set logscale y
set yrange [1:*]
set ylabel 'messages per second (log scale)'
set xlabel '(a) one connection, small messages   (b) parallel sessions   (c) one message per connection'
set key top right
set grid ytics
plot %s
""" % (term, os.path.join(out, fname + ".png"), title, cols))


def chart_bars(out, term, fname, title, ylabel, labels, values, logscale=False,
               target=None):
    if not labels:
        return
    dat = os.path.join(out, "runs", fname + ".dat")
    with open(dat, "w") as f:
        for l, v in zip(labels, values):
            f.write('"%s" %s\n' % (l, "-" if v is None else "%.4f" % v))
    plot(out, fname, """set terminal %s
set output '%s'
set title "%s"
set style data histogram
set style fill solid 0.85 border -1
set boxwidth 0.7
set datafile missing '-'
%s
set ylabel '%s'
set xtics rotate by -25
set grid ytics
set key off
%s
plot '%s' using 2:xtic(1) linecolor rgb '#4477aa', '' using 0:2:(sprintf('%%.2f', $2)) with labels offset 0,0.7 notitle
""" % (term, os.path.join(out, fname + ".png"), title,
       "set logscale y" if logscale else "set yrange [0:*]", ylabel,
       ("set arrow from graph 0, first %g to graph 1, first %g nohead dt 2 lc rgb '#cc3311'\n"
        "set label 'target %g' at graph 0.01, first %g offset 0,0.6 tc rgb '#cc3311'"
        % (target, target, target, target)) if target else "", dat))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "docs/bench"
    rows = read_rows(out)
    machine = load_json(os.path.join(out, "machine.json")) or {}
    tables = throughput_tables(rows)
    probes, rtts = rtt_rows(out, rows)
    cg = read_callgrind(out)
    enc = read_encoder(out)
    mem = memory_rows(rows)
    sizes = load_json(os.path.join(out, "sizes.json"))
    turns = read_turns(out, rows, probes)
    tls = read_tls_resumption(out)

    results = {"machine": machine, "throughput": [], "rtt_probe_ms": probes,
               "round_trips": rtts, "encoder": enc, "callgrind": cg, "memory": mem,
               "sizes": sizes, "turns": turns, "tls_resumption": tls}
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["server", "scenario", "tool", "messages", "msg_bytes", "seconds",
                    "messages_per_second", "mb_per_second", "smtpc_ratio", "status",
                    "all_seconds"])
        for sv, sc, sel in tables:
            for r in sel:
                w.writerow([sv, sc, r["tool"], r["messages"], r["msg_bytes"],
                            "%.6f" % r["seconds"], "%.1f" % r["msgs_per_s"],
                            "%.3f" % r["mb_per_s"],
                            "%.3f" % r["smtpc_ratio"] if r["smtpc_ratio"] else "",
                            r["status"], " ".join("%.4f" % x for x in r["all_seconds"])])
                results["throughput"].append({
                    k: r[k] for k in ("server", "scenario", "tool", "messages", "msg_bytes",
                                      "seconds", "all_seconds", "msgs_per_s", "mb_per_s",
                                      "smtpc_ratio", "status", "json")})
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)

    md = ["# smtpc benchmark results (generated by bench/report.py)", "",
          "Machine: %s, %s cores, %s MB RAM, kernel %s; %s; build %s; load average "
          "%s at start, %s at end.  Medians of %s runs.  Shared machine: one run, "
          "expect noise." % (machine.get("cpu"), machine.get("nproc"), machine.get("mem_mb"),
                             machine.get("kernel"), machine.get("cc"),
                             machine.get("build_type"), machine.get("loadavg_start"),
                             machine.get("loadavg_end"), machine.get("reps")),
          "", "Peers: Postfix %s (smtp-source, smtp-sink, smtpd), %s, %s." % (
              machine.get("postfix"), machine.get("curl"), machine.get("msmtp")), "",
          "## Throughput", "", md_throughput(tables),
          "## Round trips per message (delay proxy, %s ms each way)" % machine.get("delay_ms"),
          "", md_turns(turns),
          "## TLS session resumption (STARTTLS to Postfix)", "", md_tls_resumption(tls),
          "## Round trips by wall time", "", md_rtt(probes, rtts),
          "## 1 MiB messages to Postfix on loopback: BDAT replies and delayed ACK", "",
          md_nagle(rows),
          "## Body encoder and instructions", "", md_encoder(enc, cg),
          "## Memory (smtpc-bench max RSS)", "", md_memory(mem, sizes)]
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md))

    if gnuplot_available():
        term = terminal()
        chart_throughput(out, term, tables, "sink",
                         ["smtpc", "smtp-source-d", "smtp-source", "curl", "msmtp"],
                         "throughput-sink", "Messages per second to smtp-sink (1 KiB body)")
        chart_throughput(out, term, tables, "mta",
                         ["smtpc", "smtpc-no-chunking", "smtp-source-d", "smtp-source"],
                         "throughput-postfix",
                         "Messages per second to Postfix smtpd (queued, then discarded)")
        big = [r for sv, sc, sel in tables if sc == "d" for r in sel if r["status"] == "ok"]
        chart_bars(out, term, "large-message", "One large message: MB/s (wall time)",
                   "MB/s", ["%s %s" % (r["server"], r["tool"]) for r in big],
                   [r["mb_per_s"] for r in big])
        chart_turns(out, term, turns)
        reuse = [e for e in rtts if e["scenario"] in ("reuse", "reuse100")]
        chart_bars(out, term, "round-trips",
                   "Round trips per message on a reused connection (%s ms each way)"
                   % machine.get("delay_ms"), "round trips per message",
                   ["%s %s" % (e["server"], e["tool"]) for e in reuse],
                   [e.get("rtts_per_msg", e["wall_rtts_per_msg"]) for e in reuse])
        chart_bars(out, term, "encoder", "Body encoder in memory (input GB/s)", "GB/s",
                   [e["variant"] for e in enc], [e["gb_per_second"] for e in enc],
                   logscale=True, target=2)
    print("report.py: wrote %s" % os.path.join(out, "results.md"))


if __name__ == "__main__":
    main()
