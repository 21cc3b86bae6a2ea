#!/usr/bin/env python3
"""Reads mlxmtp-verify-bench --timeline output (matvec_frag.comp TIMELINE):
per run, the tensor-core products' dispatches, when their workgroups ran,
and what separates them.

Usage: timeline_report.py FILE [bytes_per_weight_element]   (0.53125: MXFP4)

Per product shape (rows x cols at N columns), averaged over its dispatches
(one per layer): the span from its first workgroup's start to its last
one's end, the time at the copy ceiling for its weight bytes (CEILING_GBS,
default 2868), when the median and the 90th-percentile workgroup ended, a
workgroup's duration, and workgroups per SM (max / mean, SMID records only).
Then the whole run: the products' union of busy time against the run's span
and the gaps where no product ran (the other stages, barriers, launches).
"""
import os
import struct
import sys
from collections import defaultdict


def runs(path):
    data = open(path, "rb").read()
    off = 0
    while off + 16 <= len(data):
        magic, idx, n, _ = struct.unpack_from("<4I", data, off)
        if magic != 0x314E4C54:
            raise SystemExit("not a timeline file (bad header at %d)" % off)
        off += 16
        recs = []
        for i in range(n):
            w = struct.unpack_from("<8I", data, off + 32 * i)
            recs.append({
                "t0": w[0] | (w[1] << 32), "t1": w[2] | (w[3] << 32),
                "M": w[4], "K": w[5] & 0xFFFFFF, "N": w[5] >> 24,
                "wx": w[6] & 0xFFFFF, "wy": w[6] >> 20, "sm": w[7]})
        off += 32 * n
        yield idx, recs


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]


def report(idx, recs, bpe, ceiling):
    if not recs:
        print("run %d: no records" % idx)
        return
    base = min(r["t0"] for r in recs)
    for r in recs:
        r["t0"] -= base
        r["t1"] -= base
    by_key = defaultdict(list)
    for r in recs:
        by_key[(r["M"], r["K"], r["N"])].append(r)
    dispatches = []  # (key, records)
    for key, rs in by_key.items():
        g = len({(r["wx"], r["wy"]) for r in rs})  # workgroups per dispatch
        rs.sort(key=lambda r: r["t0"])
        for i in range(0, len(rs), g):
            dispatches.append((key, rs[i:i + g]))
    dispatches.sort(key=lambda d: min(r["t0"] for r in d[1]))
    n_tok = recs[0]["N"]
    span = max(r["t1"] for r in recs)
    print("run %d: N = %d, %d products, %d workgroups, first start to last end %.1f us"
          % (idx, n_tok, len(dispatches), len(recs), span / 1e3))
    print("  %-16s %4s %4s %8s %8s %7s %7s %7s %7s %9s" % (
        "rows x cols", "n", "wgs", "span us", "ceil us", "p50 end", "p90 end", "wg us", "wg p90", "wg/SM max"))
    agg = defaultdict(lambda: defaultdict(list))
    for key, rs in dispatches:
        t0 = min(r["t0"] for r in rs)
        ends = [r["t1"] - t0 for r in rs]
        a = agg[key]
        a["span"].append(max(ends))
        a["p50"].append(pct(ends, 0.5))
        a["p90"].append(pct(ends, 0.9))
        durs = [r["t1"] - r["t0"] for r in rs]
        a["wg"].append(sum(durs) / len(durs))
        a["wgp90"].append(pct(durs, 0.9))
        a["wgs"].append(len(rs))
        sms = defaultdict(int)
        for r in rs:
            if r["sm"] != 0xFFFFFFFF:
                sms[r["sm"]] += 1
        if sms:
            a["smmax"].append(max(sms.values()))
            a["smmean"].append(len(rs) / len(sms))
    mean = lambda v: sum(v) / len(v) if v else float("nan")
    total_span = 0.0
    for key in sorted(agg, key=lambda k: -sum(agg[k]["span"])):
        a = agg[key]
        M, K, N = key
        ceil_us = M * K * bpe / (ceiling * 1e3)
        total_span += sum(a["span"])
        sm = "%d / %.2f" % (max(a["smmax"]), mean(a["smmean"])) if a["smmax"] else "-"
        print("  %-16s %4d %4d %8.2f %8.2f %7.2f %7.2f %7.2f %7.2f %9s" % (
            "%dx%d" % (M, K), len(a["span"]), a["wgs"][0], mean(a["span"]) / 1e3, ceil_us,
            mean(a["p50"]) / 1e3, mean(a["p90"]) / 1e3, mean(a["wg"]) / 1e3, mean(a["wgp90"]) / 1e3, sm))
    # Busy time: the union of the dispatches' [start, end]; the gaps between.
    iv = sorted((min(r["t0"] for r in rs), max(r["t1"] for r in rs)) for _, rs in dispatches)
    busy, gaps, cur = 0, [], None
    for s, e in iv:
        if cur is None:
            cur = [s, e]
        elif s <= cur[1]:
            cur[1] = max(cur[1], e)
        else:
            busy += cur[1] - cur[0]
            gaps.append(s - cur[1])
            cur = [s, e]
    busy += cur[1] - cur[0]
    print("  products busy %.1f us (sum of spans %.1f), gaps %d totalling %.1f us (median %.2f, p90 %.2f us)" % (
        busy / 1e3, total_span / 1e3, len(gaps), sum(gaps) / 1e3,
        pct(gaps, 0.5) / 1e3 if gaps else 0, pct(gaps, 0.9) / 1e3 if gaps else 0))


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    bpe = float(sys.argv[2]) if len(sys.argv) > 2 else 0.53125
    ceiling = float(os.environ.get("CEILING_GBS", "2868"))
    for idx, recs in runs(sys.argv[1]):
        report(idx, recs, bpe, ceiling)


if __name__ == "__main__":
    main()
