#!/usr/bin/env python3
"""Prints the ratios and goals from one `cargo bench --bench tokens` run.

Reads criterion's medians under target/criterion (all measured in the same process, so the
ratios hold on a noisy machine). `--markdown` prints the README tables; `--dos` only the
hostile-input table (each `dos/*` shape over its benign control of the same length);
`--criterion DIR[,DIR...]` reads other runs' directories (copies of target/criterion); with
several, each bench's median is the median of its medians, for machines whose noise comes in
bursts (shared VMs). Exits 1 when a goal is missed.
"""
import json
import pathlib
import platform
import sys

roots = [pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"]
if "--criterion" in sys.argv:
    roots = [pathlib.Path(d) for d in sys.argv[sys.argv.index("--criterion") + 1].split(",")]
runs = {}
for root in roots:
    for bench in root.glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())
        runs.setdefault(meta["full_id"], []).append(est["median"]["point_estimate"])
median = {k: sorted(v)[len(v) // 2] for k, v in runs.items()}


def ns(bench_id):
    if bench_id not in median:
        sys.exit(f"missing {bench_id}: run `cargo bench --bench tokens` first")
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
for alg, bits in (("hs256", "sha256"), ("hs384", "sha384"), ("hs512", "sha512")):
    floor = ns(f"floor/hmac-{bits}")
    sign = ns(f"sign/{alg}/user_token")
    verify = ns(f"verify/{alg}/user_token")
    rows.append((f"`floor/hmac-{bits}`", f"{floor:.0f} ns", "the floor", None))
    rows.append((f"`sign/{alg}/user_token` / floor", f"{sign / floor:.2f}x ({sign:.0f} ns)", "<= 1.25x", sign / floor <= 1.25))
    rows.append((f"`verify/{alg}/user_token` / floor", f"{verify / floor:.2f}x ({verify:.0f} ns)", "<= 1.40x", verify / floor <= 1.40))

floor = ns("floor/hmac-sha256")
sign, verify = ns("sign/hs256/user_token"), ns("verify/hs256/user_token")
enc, dec = ns("peers/jsonwebtoken/encode"), ns("peers/jsonwebtoken/decode")
rows.append(("jsonwebtoken encode / our sign", f"{enc / sign:.1f}x faster ({enc:.0f} ns)", ">= 3x", enc / sign >= 3))
rows.append(("jsonwebtoken decode+validate / our verify", f"{dec / verify:.1f}x faster ({dec:.0f} ns)", ">= 5x", dec / verify >= 5))
# The peers' own distance from the floor bounds what "N times faster" can mean: a ratio above
# this one would need a token faster than the bare HMAC.
rows.append(("jsonwebtoken encode / floor (upper bound on the above)", f"{enc / floor:.2f}x", "report", None))
rows.append(("jsonwebtoken decode / floor (upper bound on the above)", f"{dec / floor:.2f}x", "report", None))
js_sign, js_verify = ns("peers/jwt-simple/sign"), ns("peers/jwt-simple/verify")
rows.append(("jwt-simple sign / our sign", f"{js_sign / sign:.1f}x faster ({js_sign:.0f} ns)", "report", None))
rows.append(("jwt-simple verify / our verify", f"{js_verify / verify:.1f}x faster ({js_verify:.0f} ns)", "report", None))
for what in ("sign/hs256/custom", "verify/hs256/custom", "sign/hs256/server_token"):
    rows.append((f"`{what}` / floor", f"{ns(what) / floor:.2f}x ({ns(what):.0f} ns)", "report", None))
t1, t2 = ns("threads/1/verify/hs256"), ns("threads/2/verify/hs256")
rows.append(("verify throughput, 2 threads / 1 thread", f"{2 * t1 / t2:.2f}x", "report", None))
b64, b64ct, own = ns("codec/base64/decode"), ns("codec/base64ct/decode"), ns("codec/stackjwt/decode")
rows.append(("this crate's codec / base64 decode (payload segment)", f"{own / b64:.2f}x ({own:.0f} vs {b64:.0f} ns)", "report", None))
rows.append(("base64ct / base64 decode (payload segment)", f"{b64ct / b64:.1f}x ({b64ct:.0f} vs {b64:.0f} ns)", "report", None))
dos = dos_rows()

missed = [r for r in rows + dos if r[3] is False]
if "--markdown" in sys.argv:
    what = "medians of one run" if len(roots) == 1 else f"median of {len(roots)} runs' medians"
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
