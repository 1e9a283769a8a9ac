#!/usr/bin/env python3
"""Prints the ratios and goals from one `cargo bench -p stackjwt-benches --bench tokens` run.

Reads criterion's medians under target/criterion (all measured in the same process, so the
ratios hold on a noisy machine). `--markdown` prints the README tables; `--dos` only the
hostile-input table (each `dos/*` shape over its benign control of the same length);
`--svg FILE` also writes a bar chart of ns per token (this crate, the floor, the peers);
`--criterion DIR[,DIR...]` reads other runs' directories (copies of target/criterion); with
several, each bench's median is the median of its medians, for machines whose noise comes in
bursts (shared VMs); `--quantile Q` takes each run's Q-quantile of per-iteration times
instead of its median. Exits 1 when a goal is missed.
"""
import json
import pathlib
import platform
import sys

roots = [pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"]
if "--criterion" in sys.argv:
    roots = [pathlib.Path(d) for d in sys.argv[sys.argv.index("--criterion") + 1].split(",")]
# `--quantile Q`: each run's Q-quantile of its per-iteration sample times instead of criterion's
# median, for machines whose noise only ever adds time in bursts (a low quantile is then the
# uncontended cost; applied to every bench alike, floors included).
quantile = float(sys.argv[sys.argv.index("--quantile") + 1]) if "--quantile" in sys.argv else None
runs = {}
for root in roots:
    for bench in root.glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        if quantile is None:
            est = json.loads((bench.parent / "estimates.json").read_text())
            value = est["median"]["point_estimate"]
        else:
            sample = json.loads((bench.parent / "sample.json").read_text())
            per_iter = sorted(t / n for t, n in zip(sample["times"], sample["iters"]))
            value = per_iter[min(len(per_iter) - 1, int(quantile * len(per_iter)))]
        runs.setdefault(meta["full_id"], []).append(value)
median = {k: sorted(v)[len(v) // 2] for k, v in runs.items()}


def ns(bench_id):
    if bench_id not in median:
        sys.exit(f"missing {bench_id}: run `cargo bench -p stackjwt-benches --bench tokens` first")
    return median[bench_id]


def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def dos_rows():
    """Each hostile shape over the benign control of the same length on the same path."""
    out = []
    paths = sorted({k.rsplit("/", 1)[0] for k in median if k.startswith("dos/")})
    for path in paths:
        control = ns(f"{path}/control")
        for shape in ("colliding_names", "distinct_names", "numbers", "escapes"):
            t = ns(f"{path}/{shape}")
            out.append((f"`{path}/{shape}` / control", f"{t / control:.2f}x ({t:.0f} vs {control:.0f} ns)", "<= 3x", t / control <= 3))
    return out


if "--dos" in sys.argv:
    rows = dos_rows()
    missed = [r for r in rows if r[3] is False]
    print(f"machine: {cpu()}")
    for what, value, goal, met in rows:
        print(f"{what.replace('`', ''):52} {value:32} {goal:8} {'met' if met else 'MISSED'}")
    sys.exit(1 if missed else 0)

rows = []  # (what, value, goal text, met or None)


def ratio_row(what, t, floor, goal):
    """A bench over its floor, with its goal (None: report only)."""
    met = None if goal is None else t / floor <= goal
    rows.append((what, f"{t / floor:.2f}x ({t:.0f} ns)", f"<= {goal:.2f}x" if goal else "report", met))


for alg, bits in (("hs256", "sha256"), ("hs384", "sha384"), ("hs512", "sha512")):
    floor = ns(f"floor/hmac-{bits}")
    rows.append((f"`floor/hmac-{bits}`", f"{floor:.0f} ns", "the floor", None))
    ratio_row(f"`sign/{alg}/user_token` / floor", ns(f"sign/{alg}/user_token"), floor, 1.25 if alg == "hs256" else 1.20)
    verify_goal = {"hs256": 1.40, "hs384": None, "hs512": 1.35}[alg]
    ratio_row(f"`verify/{alg}/user_token` / floor", ns(f"verify/{alg}/user_token"), floor, verify_goal)

# The stricter floor: the same HMAC computed straight on sha2's compression function, as this
# crate does (report only: what is above it is this crate's own work).
bare = ns("floor/compress-sha256")
rows.append(("`floor/compress-sha256` (HMAC on the bare compression function)", f"{bare:.0f} ns ({bare / ns('floor/hmac-sha256'):.2f}x the hmac crate's)", "report", None))
ratio_row("`sign/hs256/user_token` / compression floor", ns("sign/hs256/user_token"), bare, None)
ratio_row("`verify/hs256/user_token` / compression floor", ns("verify/hs256/user_token"), bare, None)

# Every SDK's token shape, each over the floor of its own bytes.
for shape, goal in (("js", 1.40), ("go", 1.40), ("php", 1.40), ("ruby", 1.40), ("python", 1.40), ("video", 1.60)):
    ratio_row(f"`shape/{shape}/verify` / its floor", ns(f"shape/{shape}/verify"), ns(f"shape/{shape}/floor"), goal)

floor = ns("floor/hmac-sha256")
ratio_row("`sign/hs256/custom` / floor", ns("sign/hs256/custom"), floor, 1.8)
ratio_row("`verify/hs256/custom` / floor", ns("verify/hs256/custom"), floor, 2.2)
ratio_row("`sign/hs256/server_token` / floor", ns("sign/hs256/server_token"), floor, None)

sign, verify = ns("sign/hs256/user_token"), ns("verify/hs256/user_token")
enc, dec = ns("peers/jsonwebtoken/encode"), ns("peers/jsonwebtoken/decode")
# The measure: the work each does above the floor (HMAC-SHA256 with the key schedule
# precomputed, the hmac crate's, over the same bytes), peer over ours.
same = lambda peer, ours: (peer - floor) / max(ours - floor, 1e-9)
rows.append(("jsonwebtoken encode / our sign, both above the floor", f"{same(enc, sign):.1f}x ({enc - floor:.0f} vs {sign - floor:.0f} ns)", ">= 6x", same(enc, sign) >= 6))
rows.append(("jsonwebtoken decode+validate / our verify, both above the floor", f"{same(dec, verify):.1f}x ({dec - floor:.0f} vs {verify - floor:.0f} ns)", ">= 6x", same(dec, verify) >= 6))
# Stricter, reported: each above its own HMAC. jsonwebtoken computes HMAC with the hmac crate
# (the floor); this crate on the bare compression function (the compression floor), so this
# crate's cheaper HMAC does not count as less work.
above = lambda peer, ours: (peer - floor) / max(ours - bare, 1e-9)
rows.append(("jsonwebtoken encode / our sign, each above its own HMAC", f"{above(enc, sign):.1f}x ({enc - floor:.0f} vs {sign - bare:.0f} ns)", "report", None))
rows.append(("jsonwebtoken decode+validate / our verify, each above its own HMAC", f"{above(dec, verify):.1f}x ({dec - floor:.0f} vs {verify - bare:.0f} ns)", "report", None))
rows.append(("jsonwebtoken encode / our sign, whole", f"{enc / sign:.1f}x ({enc:.0f} ns)", "report", None))
rows.append(("jsonwebtoken decode / our verify, whole", f"{dec / verify:.1f}x ({dec:.0f} ns)", "report", None))
js_sign, js_verify = ns("peers/jwt-simple/sign"), ns("peers/jwt-simple/verify")
rows.append(("jwt-simple sign / our sign", f"{js_sign / sign:.1f}x ({js_sign:.0f} ns)", "report", None))
rows.append(("jwt-simple verify / our verify", f"{js_verify / verify:.1f}x ({js_verify:.0f} ns)", "report", None))
t1, t2 = ns("threads/1/verify/hs256"), ns("threads/2/verify/hs256")
rows.append(("verify throughput, 2 threads / 1 thread", f"{2 * t1 / t2:.2f}x", "report", None))
b64, b64ct, own = ns("codec/base64/decode"), ns("codec/base64ct/decode"), ns("codec/stackjwt/decode")
rows.append(("this crate's codec / base64 decode (payload segment)", f"{own / b64:.2f}x ({own:.0f} vs {b64:.0f} ns)", "report", None))
rows.append(("base64ct / base64 decode (payload segment)", f"{b64ct / b64:.1f}x ({b64ct:.0f} vs {b64:.0f} ns)", "report", None))


def stat_text():
    stat = "medians" if quantile is None else f"{quantile:g}-quantiles"
    return f"criterion {stat}" if len(roots) == 1 else f"median of {len(roots)} runs' {stat}"


def svg(path):
    """A horizontal bar chart of ns per token: this crate, the floor and the peers."""
    bars = [
        ("HMAC-SHA256 floor", floor, "#9e9e9e"),
        ("HMAC, bare compression", bare, "#bdbdbd"),
        ("stackjwt sign", sign, "#1565c0"),
        ("stackjwt verify", verify, "#1565c0"),
        ("jwt-simple sign", js_sign, "#ef6c00"),
        ("jwt-simple verify", js_verify, "#ef6c00"),
        ("jsonwebtoken encode", enc, "#c62828"),
        ("jsonwebtoken decode", dec, "#c62828"),
    ]
    width, left, row, top = 720, 170, 34, 56
    scale = (width - left - 90) / max(t for _, t, _ in bars)
    height = top + row * len(bars) + 34
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        '<text x="10" y="22" font-size="15" font-weight="bold">HS256 user token: ns per operation (lower is better)</text>',
        f'<text x="10" y="42" fill="#555">{cpu()}; {stat_text()}, one process</text>',
    ]
    for i, (label, t, color) in enumerate(bars):
        y = top + i * row
        w = t * scale
        out.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{label}</text>')
        out.append(f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="{row - 10}" fill="{color}"/>')
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 17}">{t:,.0f} ns</text>')
    out.append(f'<text x="10" y="{height - 10}" fill="#555">Same claims and secret for all; the floors: HMAC over the same bytes (hmac crate; bare compression).</text>')
    out.append("</svg>")
    pathlib.Path(path).write_text("\n".join(out) + "\n")


if "--svg" in sys.argv:
    svg(sys.argv[sys.argv.index("--svg") + 1])
dos = dos_rows()

missed = [r for r in rows + dos if r[3] is False]
if "--markdown" in sys.argv:
    what = stat_text()
    print(f"Measured on {cpu()}, {platform.system()} {platform.machine()}, {what}:\n")
    for table in (rows, dos):
        print("| measure | result | goal |")
        print("|---|---|---|")
        for what, value, goal, met in table:
            mark = "" if met is None else (" ✓" if met else " ✗")
            print(f"| {what} | {value} | {goal}{mark} |")
        print()
else:
    print(f"machine: {cpu()}")
    for what, value, goal, met in rows + dos:
        status = "" if met is None else ("met" if met else "MISSED")
        print(f"{what.replace('`', ''):52} {value:32} {goal:10} {status}")
    print("all goals met" if not missed else f"{len(missed)} goal(s) missed")
sys.exit(1 if missed else 0)
