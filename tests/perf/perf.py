#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Numbers of the benchmark (tests/perf/bench.sh).

  perf.py extract KIND FILE [options]   validate one tool's output, print "metric value"
                                        lines for raw.csv; exit 3 (with the reason on
                                        stderr) when the output is not trustworthy
  perf.py report OUT                    medians, ratios, targets, plots from OUT/raw.csv

GB is 1e9 bytes. "Landed" means bytes durably in files: counted from sluice's JSON
(checked against the sizes of the files) or from the files of the other tools after
fsync; rates divide by the time from the start of the ingest until that data was durable.
"""
import argparse
import csv
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys


class Untrustworthy(Exception):
    pass


def out(metric, value):
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise Untrustworthy(f"{metric} is not a number ({value})")
        print(f"{metric} {value:.6f}")
    else:
        print(f"{metric} {value}")


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise Untrustworthy(f"cannot read {path}: {e}")


def capture_file_bytes(directory):
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            if name.endswith((".pcap", ".pcapng")):
                total += os.path.getsize(os.path.join(root, name))
    return total


# ---- extractors ----------------------------------------------------------------------

def ex_sluice_capture(a):
    j = load_json(a.file)
    if j.get("mode") != "capture":
        raise Untrustworthy(f"mode is {j.get('mode')!r}, not capture")
    t = j["total"]
    if j.get("balanced") is not True or t.get("unaccounted", 0) != 0:
        raise Untrustworthy(f"counters do not balance (balanced={j.get('balanced')},"
                            f" unaccounted={t.get('unaccounted')})")
    d = t["drops"]
    if t["received"] != t["written"] + t["served"] + t["filtered"] + sum(d.values()):
        raise Untrustworthy("received != written + served + filtered + drops")
    elapsed = a.elapsed if a.elapsed else j["elapsed_s"]
    if not elapsed or elapsed <= 0:
        raise Untrustworthy("no elapsed time")
    file_bytes = sum(w["file_bytes"] for w in j["writers"])
    if a.dir is not None:
        on_disk = capture_file_bytes(a.dir)
        if on_disk != file_bytes:
            raise Untrustworthy(f"files in {a.dir} hold {on_disk} bytes, the JSON says"
                                f" {file_bytes}")
    nic = t.get("nic", {})
    nic_lost = nic.get("imissed", 0) + nic.get("rx_nombuf", 0) + nic.get("ierrors", 0)
    offered = a.offered if a.offered is not None else t["received"] + nic_lost
    if t["written"] > offered:
        raise Untrustworthy(f"wrote {t['written']} packets of {offered} offered")
    out("elapsed_s", float(elapsed))
    out("offered", offered)
    out("received", t["received"])
    out("landed", t["written"])
    out("file_bytes", file_bytes)
    out("mpps_landed", t["written"] / elapsed / 1e6)
    out("gbps_landed", file_bytes / elapsed / 1e9)
    rx = j.get("rx_lcores", [])
    if rx:
        out("mpps_rx_per_lcore", statistics.mean(r["received"] for r in rx) / elapsed / 1e6)
    for k, v in d.items():
        out(f"drop_{k}", v)
    out("drop_filtered", t["filtered"])
    out("drop_nic_imissed", nic.get("imissed", 0))
    out("drop_nic_rx_nombuf", nic.get("rx_nombuf", 0))
    out("drop_nic_ierrors", nic.get("ierrors", 0))
    if a.offered is not None:
        out("drop_before_port", max(0, a.offered - t["received"] - nic_lost))
    out("drop_pct", 100.0 * (offered - t["written"]) / offered if offered else 0.0)


def ex_sluice_disk(a):
    j = load_json(a.file)
    if j.get("perf_test") != "disk":
        raise Untrustworthy("not a --perf-test=disk result")
    tot = j["total"]
    if tot["bytes"] <= 0 or tot["GBps"] <= 0:
        raise Untrustworthy("nothing written")
    out("elapsed_s", float(j["duration_s"]))
    out("bytes", tot["bytes"])
    out("gbps", float(tot["GBps"]))
    out("writers", len(j["writers"]))


def ex_fio(a):
    j = load_json(a.file)
    job = j["jobs"][0]
    if job.get("error", 0) != 0:
        raise Untrustworthy(f"fio job error {job['error']}")
    w = job["write"]
    if w["io_bytes"] <= 0:
        raise Untrustworthy("fio wrote nothing")
    out("bytes", w["io_bytes"])
    out("elapsed_s", w["runtime"] / 1000.0)
    out("gbps", w["bw_bytes"] / 1e9)
    out("lat_p99_ms", job["write"]["clat_ns"]["percentile"].get("99.000000", 0) / 1e6)


def ex_dumpcap(a):
    text = open(a.file, errors="replace").read()
    m = re.search(r"Packets received/dropped on interface '[^']*': (\d+)/(\d+)", text)
    if not m:
        raise Untrustworthy("dumpcap printed no packet summary")
    received, dropped = int(m.group(1)), int(m.group(2))
    cap = text.rfind("Packets captured:")
    if cap < 0:
        raise Untrustworthy("dumpcap printed no packet count")
    counts = re.findall(r"\d+", text[cap:m.start()])
    if not counts:
        raise Untrustworthy("dumpcap printed no packet count")
    landed = int(counts[-1])
    size = os.path.getsize(a.pcap)
    if landed > 0 and size == 0:
        raise Untrustworthy("dumpcap counted packets but its file is empty")
    out("elapsed_s", a.elapsed)
    out("offered", received)
    out("received", received)
    out("landed", landed)
    out("file_bytes", size)
    out("mpps_landed", landed / a.elapsed / 1e6)
    out("gbps_landed", size / a.elapsed / 1e9)
    # dumpcap's "received" counts everything the pdump callback saw (accepted or not);
    # its "dropped" is no mbuf + ring full in the primary; the rest never left the ring.
    out("drop_pdump", dropped)
    out("drop_in_ring_at_stop", max(0, received - dropped - landed))
    out("drop_pct", 100.0 * (received - landed) / received if received else 0.0)


def ex_tcpdump(a):
    text = open(a.file, errors="replace").read()

    def num(pattern):
        m = re.search(r"(\d+) packets? " + pattern, text)
        if not m:
            raise Untrustworthy(f"tcpdump did not say how many packets {pattern}")
        return int(m.group(1))

    captured = num("captured")
    kernel = num("dropped by kernel")
    size = os.path.getsize(a.pcap)
    common_landed(a, captured, size, {"drop_kernel": kernel})


def ex_krecv(a):
    j = load_json(a.file)
    common_landed(a, j["packets"], j["file_bytes"],
                  {"drop_socket_rcvbuf": a.rcvbuf_errors or 0},
                  payload_bytes=j["payload_bytes"])


def common_landed(a, landed, size, drops, payload_bytes=None):
    offered = a.offered
    if offered is None:
        raise Untrustworthy("no offered count")
    if landed > offered:
        raise Untrustworthy(f"landed {landed} packets of {offered} sent")
    out("elapsed_s", a.elapsed)
    out("offered", offered)
    out("landed", landed)
    out("file_bytes", size)
    out("mpps_landed", landed / a.elapsed / 1e6)
    out("gbps_landed", size / a.elapsed / 1e9)
    for k, v in drops.items():
        out(k, v)
    out("drop_other", max(0, offered - landed - sum(drops.values())))
    out("drop_pct", 100.0 * (offered - landed) / offered if offered else 0.0)


def ex_kgen(a):
    j = load_json(a.file)
    if j["sent"] <= 0:
        raise Untrustworthy("the generator sent nothing")
    out("sent", j["sent"])
    out("offered_mpps", j["sent"] / j["elapsed_s"] / 1e6)


def ex_sender(a):
    j = load_json(a.file)
    files = j.get("files", [])
    bad = [f for f in files if f.get("status") != "ok"]
    if bad or len(files) != a.files:
        raise Untrustworthy(f"{len(files)} files reported, {len(bad)} not ok"
                            f" (expected {a.files} ok)")
    size = sum(f["size"] for f in files)
    if size != a.bytes:
        raise Untrustworthy(f"the sender reports {size} bytes, the tree holds {a.bytes}")
    sent = sum(f.get("sent_bytes", 0) for f in files)
    resent = sum(f.get("retransmitted_bytes", 0) for f in files)
    out("retransmit_pct", 100.0 * resent / sent if sent else 0.0)
    if j.get("elapsed_s"):
        # The sender's own clock: from its first handshake to the last file durable,
        # without the start of the process (EAL initialisation in DPDK mode).
        out("gbps_session", size / j["elapsed_s"] / 1e9)


def ex_sluice_file(a):
    j = load_json(a.file)
    t = j["total"]
    if j.get("balanced") is not True or t.get("unaccounted", 0) != 0:
        raise Untrustworthy("file-mode counters do not balance")
    f = j.get("file", {})
    ok = f.get("files_ok")
    if ok is not None and ok != a.files:
        raise Untrustworthy(f"sluice published {ok} files, not {a.files}")
    out("frames_received", t["received"])
    for k, v in t["drops"].items():
        out(f"drop_{k}", v)


def ex_transfer(a):
    """A whole-tree copy: bytes / (sender start .. durable on the receiver)."""
    if a.elapsed <= 0:
        raise Untrustworthy("no elapsed time")
    out("seconds", a.elapsed)
    out("bytes", a.bytes)
    out("gbps", a.bytes / a.elapsed / 1e9)


EXTRACTORS = {
    "sluice-capture": ex_sluice_capture,
    "sluice-disk": ex_sluice_disk,
    "sluice-file": ex_sluice_file,
    "fio": ex_fio,
    "dumpcap": ex_dumpcap,
    "tcpdump": ex_tcpdump,
    "krecv": ex_krecv,
    "kgen": ex_kgen,
    "sender": ex_sender,
    "transfer": ex_transfer,
}


def cmd_extract(a):
    try:
        EXTRACTORS[a.kind](a)
    except Untrustworthy as e:
        print(f"perf.py: {a.kind}: {e}", file=sys.stderr)
        return 3
    except (KeyError, TypeError, ValueError, OSError) as e:
        print(f"perf.py: {a.kind}: unexpected output ({type(e).__name__}: {e})",
              file=sys.stderr)
        return 3
    return 0


# ---- the report ----------------------------------------------------------------------

# Metrics shown in the main table, in this order, with their units.
SHOWN = [
    ("gbps", "GB/s"),
    ("gbps_landed", "GB/s landed"),
    ("gbps_session", "GB/s in session"),
    ("mpps_landed", "Mpps landed"),
    ("mpps_rx_per_lcore", "Mpps per RX lcore"),
    ("offered_mpps", "Mpps offered"),
    ("drop_pct", "% not landed"),
    ("retransmit_pct", "% retransmitted"),
    ("seconds", "s"),
    ("rss_peak_mb", "MiB RSS peak"),
    ("hugepages_mb", "MiB hugepages"),
]

SCENARIO_ORDER = ["fio", "disk", "capture-null", "capture-pcap", "dumpcap", "veth-capture",
                  "file-veth", "file-dpdk", "soak"]

TARGETS = [
    # id, text, numerator cell, denominator cell (or a constant), target, per frame size
    ("T1", "writer alone (--perf-test=disk) / fio ceiling",
     ("disk", "sluice", "-", "gbps"), ("fio", "fio", "-", "gbps"), 0.9),
    ("T2", "capture 1500 B (net_null) landed / fio ceiling",
     ("capture-null", "sluice", "1500", "gbps_landed"), ("fio", "fio", "-", "gbps"), 0.85),
    ("T3", "capture 64 B (net_null) landed Mpps / 10 Mpps",
     ("capture-null", "sluice", "64", "mpps_landed"), 10.0, 1.0),
    ("T4", "capture {f} B landed / dpdk-dumpcap landed (net_null, Mpps)",
     ("capture-null", "sluice", "{f}", "mpps_landed"),
     ("dumpcap", "dumpcap", "{f}", "mpps_landed"), 3.0),
    ("T5", "capture {f} B landed / tcpdump landed (veth, Mpps)",
     ("veth-capture", "sluice-af_packet", "{f}", "mpps_landed"),
     ("veth-capture", "tcpdump", "{f}", "mpps_landed"), 10.0),
    ("T6", "file mode over veth: sluice-send -> sluice / uftp -> uftpd (GB/s)",
     ("file-veth", "sluice", "-", "gbps"), ("file-veth", "uftp", "-", "gbps"), 2.0),
    ("T7", "file mode from the DPDK sender (stream set, session time) / fio ceiling",
     ("file-dpdk", "sluice-stream", "-", "gbps_session"), ("fio", "fio", "-", "gbps"), 0.8),
]

SOAK_RULE = ("flat: after the first minute no sample exceeds the sample taken at one"
             " minute by 5 % or more")


def fmt(v):
    if v is None:
        return "-"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 0.1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def median_range(values):
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)


def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


def frame_key(f):
    return (0, int(f)) if f.isdigit() else (1, 0)


def load_results(outdir):
    cells = {}  # (scenario, tool, frame) -> metric -> {run: value}
    with open(os.path.join(outdir, "raw.csv")) as f:
        for row in csv.DictReader(f):
            key = (row["scenario"], row["tool"], row["frame"])
            cells.setdefault(key, {}).setdefault(row["metric"], {})[int(row["run"])] = \
                float(row["value"])
    status = []
    path = os.path.join(outdir, "status.csv")
    if os.path.exists(path):
        with open(path) as f:
            status = list(csv.DictReader(f))
    return cells, status


def cell_sort(key):
    s, t, fr = key
    so = SCENARIO_ORDER.index(s) if s in SCENARIO_ORDER else 99
    return (so, s, frame_key(fr), t)


def target_rows(cells, errors):
    rows = []
    verdicts = []
    frames = sorted({k[2] for k in cells if k[2].isdigit()}, key=int) or ["64", "512", "1500"]
    for tid, text, num, den, target in TARGETS:
        per_frame = "{f}" in text
        for f in (frames if per_frame else [None]):
            n = tuple(x.replace("{f}", f) if f else x for x in num)
            label = text.replace("{f}", f) if f else text
            nv = cells.get(n[:3], {}).get(n[3], {})
            if isinstance(den, tuple):
                d = tuple(x.replace("{f}", f) if f else x for x in den)
                dv = cells.get(d[:3], {}).get(d[3], {})
                ratios = [nv[r] / dv[r] for r in nv if r in dv and dv[r] > 0]
                missing = [c for c, v in ((n, nv), (d, dv)) if not v]
            else:
                ratios = [v / den for v in nv.values()]
                missing = [n] if not nv else []
            med, lo, hi = median_range(ratios)
            if med is None:
                why = ", ".join(f"{c[0]}/{c[1]}" + (f" {c[2]} B" if c[2] != "-" else "")
                                for c in missing) or "no run with both"
                err = any(e for e in errors if (e[0], e[1]) in {(c[0], c[1]) for c in missing})
                verdict = "ERROR" if err else "NOT RUN"
                rows.append([tid, label, "-", "-", f">= {fmt(target)}", verdict,
                             f"no numbers for {why}"])
                verdicts.append((tid, label, verdict, None, target))
                continue
            verdict = "PASS" if med >= target else "MISS"
            rows.append([tid, label, fmt(med), f"{fmt(lo)}..{fmt(hi)}", f">= {fmt(target)}",
                         verdict, f"{len(ratios)} run(s), ratio per run"])
            verdicts.append((tid, label, verdict, med, target))
    return rows, verdicts


def soak_section(outdir):
    path = os.path.join(outdir, "soak.csv")
    if not os.path.exists(path):
        return None, None
    with open(path) as f:
        samples = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]
    if len(samples) < 2:
        return "Soak: fewer than two samples.", None
    rows = []
    verdict_all = True
    for col, label in (("rss_mb", "sluice VmRSS (MiB)"),
                       ("hugetlb_mb", "sluice hugepages mapped (MiB)"),
                       ("sys_huge_used_mb", "system hugepages in use (MiB)")):
        vals = [s[col] for s in samples]
        ref = next((s[col] for s in samples if s["t_s"] >= 60), vals[-1])
        later = [s[col] for s in samples if s["t_s"] > 60] or [vals[-1]]
        growth = (max(later) - ref) / ref * 100 if ref > 0 else 0.0
        flat = growth < 5.0
        if col != "sys_huge_used_mb":
            verdict_all = verdict_all and flat
        rows.append([label, fmt(vals[0]), fmt(ref), fmt(vals[-1]), fmt(max(vals)),
                     f"{growth:+.1f} %", "flat" if flat else "GROWS"])
    text = md_table(["what", "first", "at 1 min", "last", "max", "growth after 1 min",
                     "verdict"], rows)
    text += f"\n\nRule: {SOAK_RULE}. {len(samples)} samples, about every 10 s, over" \
            f" {samples[-1]['t_s']:.0f} s. System hugepages include other processes" \
            " and are not judged."
    return text, verdict_all


def make_plots(outdir, cells, meta):
    if not shutil.which("gnuplot"):
        return "gnuplot not installed: no plot"
    bars = []
    for key in sorted(cells, key=cell_sort):
        s, t, fr = key
        m = cells[key]
        g = m.get("gbps_landed") or m.get("gbps")
        if not g:
            continue
        med, lo, hi = median_range(list(g.values()))
        label = f"{s} {t}" + (f" {fr}" if fr != "-" else "")
        mp = m.get("mpps_landed")
        mmed, mlo, mhi = median_range(list(mp.values())) if mp else (None, None, None)
        bars.append((label, med, lo, hi, mmed, mlo, mhi))
    gp = []
    if bars:
        gp = bar_plots(outdir, cells, meta, bars)
    soak = os.path.join(outdir, "soak.csv")
    if os.path.exists(soak):
        gp += [
            "reset",
            "set terminal pngcairo size 1000,500 font 'sans,10'",
            f"set output '{os.path.join(outdir, 'soak.png')}'",
            "set datafile separator ','",
            "set key autotitle columnhead top left",
            "set grid",
            "set xlabel 'seconds'",
            "set ylabel 'MiB'",
            "set yrange [0:*]",
            "set offsets 0, 0, graph 0.15, 0",
            "set title 'soak: sluice capture from net_null, memory about every 10 s' noenhanced",
            f"plot '{soak}' using 1:2 with linespoints title 'VmRSS', "
            f"'' using 1:3 with linespoints title 'hugepages mapped by sluice', "
            f"'' using 1:4 with lines dt 2 title 'system hugepages in use'",
        ]
    if not gp:
        return "no numbers to plot"
    script = os.path.join(outdir, "plot.gp")
    with open(script, "w") as f:
        f.write("\n".join(gp) + "\n")
    r = subprocess.run(["gnuplot", script], capture_output=True, text=True)
    if r.returncode != 0:
        return f"gnuplot failed: {r.stderr.strip()[:500]}"
    return None


def bar_plots(outdir, cells, meta, bars):
    dat = os.path.join(outdir, "plot-bars.dat")
    with open(dat, "w") as f:
        for b in bars:
            vals = ["NaN" if v is None else f"{v:.6f}" for v in b[1:]]
            f.write('"%s" %s\n' % (b[0].replace('"', "'"), " ".join(vals)))
    fio = cells.get(("fio", "fio", "-"), {}).get("gbps")
    ceiling = statistics.median(fio.values()) if fio else None
    width = max(1000, 60 * len(bars) + 200)
    have_mpps = any(b[4] is not None for b in bars)
    gp = [
        f"set terminal pngcairo size {width},{1100 if have_mpps else 600} font 'sans,10'",
        f"set output '{os.path.join(outdir, 'plot.png')}'",
        f"set multiplot layout {2 if have_mpps else 1},1 title " + json.dumps(
            f"sluice benchmark {meta.get('date', '')}: medians, bars = min..max over"
            f" {meta.get('runs', '?')} run(s)"),
        "set style data histogram",
        "set style histogram errorbars gap 1 lw 1",
        "set style fill solid 0.6 border -1",
        "set xtics rotate by -35 left noenhanced",
        "set grid ytics",
        "set key top right",
        "set bmargin 12",
        "set rmargin 12",
        "set yrange [0:*]",
        "set ylabel 'GB/s landed (1e9 B/s)'",
    ]
    if ceiling:
        gp.append(f"ceil = {ceiling:.6f}")
        gp.append(f"plot '{dat}' using 2:3:4:xtic(1) title 'GB/s landed' lc rgb '#4477aa', "
                  "ceil with lines lw 2 lc rgb '#cc3311' title sprintf('fio ceiling %.2f GB/s',"
                  " ceil)")
    else:
        gp.append(f"plot '{dat}' using 2:3:4:xtic(1) title 'GB/s landed' lc rgb '#4477aa'")
    if have_mpps:
        mpps_top = max([b[6] for b in bars if b[6] is not None] + [10.0]) * 2
        gp += [
            "set ylabel 'Mpps landed'",
            "set logscale y",
            f"set yrange [0.001:{mpps_top:.3f}]",
            f"plot '{dat}' using 5:6:7:xtic(1) title 'Mpps landed' lc rgb '#228833', "
            "10 with lines lw 2 lc rgb '#cc3311' title 'target 10 Mpps (64 B)'",
        ]
    gp.append("unset multiplot")
    return gp


def cmd_report(a):
    outdir = a.outdir
    meta = load_json(os.path.join(outdir, "meta.json"))
    cells, status = load_results(outdir)
    errors = [(s["scenario"], s["tool"], s["frame"], s["reason"], s["run"])
              for s in status if s["status"] == "error"]
    notes = {}
    for s in status:
        if s["status"] == "note":
            notes.setdefault((s["scenario"], s["tool"], s["frame"], s["reason"]), []).append(
                s["run"])
    skipped = {}
    for s in status:
        if s["status"] == "skipped":
            skipped.setdefault((s["scenario"], s["tool"], s["frame"]), s["reason"])

    lines = [f"# sluice benchmark, {meta['date']}", ""]
    lines.append(md_table(["machine and run", ""], [[k, v] for k, v in meta["machine"].items()]
                          + [[k, v] for k, v in meta["config"].items()]))
    lines.append("")

    trows, verdicts = target_rows(cells, errors)
    lines += ["## Targets (each a ratio measured in the same run; median of the per-run"
              " ratios)", ""]
    lines.append(md_table(["id", "target", "ratio", "min..max", "target", "verdict", "note"],
                          trows))
    lines.append("")

    lines += ["## Measurements (median, min..max over runs)", ""]
    rows = []
    for key in sorted(cells, key=cell_sort):
        s, t, fr = key
        for metric, unit in SHOWN:
            vals = cells[key].get(metric)
            if not vals:
                continue
            med, lo, hi = median_range(list(vals.values()))
            errs = [e for e in errors if e[:3] == key]
            note = f"{len(vals)} run(s)" + (f"; {len(errs)} run(s) FAILED" if errs else "")
            rows.append([s, t, fr, unit, fmt(med), f"{fmt(lo)}..{fmt(hi)}", note])
    lines.append(md_table(["scenario", "tool", "frame B", "metric", "median", "min..max",
                           "runs"], rows) if rows else "No measurements.")
    lines.append("")

    # Drops by class, as a share of what was offered, medians over runs.
    drows = []
    for key in sorted(cells, key=cell_sort):
        m = cells[key]
        if "offered" not in m:
            continue
        classes = sorted(k for k in m if k.startswith("drop_") and k != "drop_pct")
        parts = []
        for c in classes:
            shares = [m[c][r] / m["offered"][r] * 100 for r in m[c]
                      if r in m["offered"] and m["offered"][r] > 0]
            if shares and max(shares) > 0:
                parts.append(f"{c[5:]} {fmt(statistics.median(shares))} %")
        offered = statistics.median(m["offered"].values())
        landed = statistics.median(m["landed"].values()) if "landed" in m else None
        drows.append([key[0], key[1], key[2], fmt(offered / 1e6), fmt(landed / 1e6)
                      if landed is not None else "-", ", ".join(parts) or "none"])
    if drows:
        lines += ["## Drops by class (median share of the packets offered)", ""]
        lines.append(md_table(["scenario", "tool", "frame B", "offered (M pkts)",
                               "landed (M pkts)", "drops"], drows))
        lines.append("")

    soak_text, soak_flat = soak_section(outdir)
    if soak_text:
        lines += ["## Memory over the soak", "", soak_text, ""]

    if skipped or errors:
        lines += ["## Skipped and failed", ""]
        srows = [[s, t, fr, "skipped", why] for (s, t, fr), why in sorted(skipped.items())]
        srows += [[s, t, fr, f"FAILED (run {run})", why] for s, t, fr, why, run in errors]
        lines.append(md_table(["scenario", "tool", "frame B", "status", "why"], srows))
        lines.append("")

    if notes:
        lines += ["## Notes", ""]
        lines.append(md_table(["scenario", "tool", "frame B", "runs", "note"],
                              [[k[0], k[1], k[2], ",".join(v), k[3]]
                               for k, v in sorted(notes.items())]))
        lines.append("")

    plot_note = make_plots(outdir, cells, meta)
    lines.append("Plots: plot.png (GB/s and Mpps landed per scenario)"
                 + (", soak.png (memory over the soak)" if soak_text else "")
                 + (f" -- {plot_note}" if plot_note else "") + ".")
    lines.append("Raw numbers of every run: raw.csv (run, scenario, tool, frame, metric,"
                 " value); results.json; logs/.")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write(text)
    summary = {
        "meta": meta,
        "targets": [{"id": v[0], "what": v[1], "verdict": v[2], "ratio": v[3],
                     "target": v[4]} for v in verdicts],
        "cells": [{"scenario": k[0], "tool": k[1], "frame": k[2],
                   "metrics": {m: {"runs": {str(r): x for r, x in sorted(v.items())},
                                   "median": statistics.median(v.values())}
                               for m, v in cells[k].items()}}
                  for k in sorted(cells, key=cell_sort)],
        "skipped": [{"scenario": k[0], "tool": k[1], "frame": k[2], "why": v}
                    for k, v in sorted(skipped.items())],
        "errors": [{"scenario": e[0], "tool": e[1], "frame": e[2], "why": e[3],
                    "run": e[4]} for e in errors],
        "soak_flat": soak_flat,
    }
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(text, end="")
    if plot_note and plot_note.startswith("gnuplot failed"):
        print(f"perf.py: {plot_note}", file=sys.stderr)
        return 1
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract")
    e.add_argument("kind", choices=sorted(EXTRACTORS))
    e.add_argument("file")
    e.add_argument("--elapsed", type=float)
    e.add_argument("--offered", type=int)
    e.add_argument("--dir")
    e.add_argument("--pcap")
    e.add_argument("--rcvbuf-errors", type=int)
    e.add_argument("--files", type=int)
    e.add_argument("--bytes", type=int)
    r = sub.add_parser("report")
    r.add_argument("outdir")
    a = p.parse_args()
    if a.cmd == "extract":
        return cmd_extract(a)
    return cmd_report(a)


if __name__ == "__main__":
    sys.exit(main())
