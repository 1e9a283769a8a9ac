#!/usr/bin/env python3
"""Load test of stackjwt-authz with wrk: valid user tokens against anonymous requests.

    python3 scripts/load-authz.py            # the full run: 20 s each, goals checked
    python3 scripts/load-authz.py --seconds 2 --smoke   # CI: short, only errors checked

One stackjwt-authz (release build) serves both runs, back to back, with 64 keep-alive
connections each: first requests carrying a valid user token (`stream-auth-type: jwt`), then
the same requests as `stream-auth-type: anonymous` (no token work). The server's resident
memory is read from /proc after its first 10,000 requests and after 1,000,000 (the metrics
endpoint counts them). Goals (full run): token requests/s >= 90% of anonymous, zero non-2xx
answers, RSS growth <= 5 MB. Exits 1 when a goal is missed.
"""

import argparse
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "load-test secret, thirty-two bytes or more"


def build():
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "stackjwt-axum", "--features", "server", "--bin", "stackjwt-authz"],
                   cwd=ROOT, check=True)
    subprocess.run(["cargo", "build", "--quiet", "--release", "--features", "cli", "--bin", "stackjwt"],
                   cwd=ROOT, check=True)


def target_dir():
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return re.search(r'"target_directory":"([^"]+)"', out).group(1)


def mint(bin_dir):
    env = dict(os.environ, STREAM_API_SECRET=SECRET)
    out = subprocess.run([os.path.join(bin_dir, "stackjwt"), "token", "load-test-user", "--exp", "+1h", "--iat", "now"],
                         env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def served(metrics):
    text = urllib.request.urlopen(f"http://{metrics}/metrics", timeout=5).read().decode()
    return int(re.search(r"^stackjwt_authz_check_seconds_count (\d+)$", text, re.M).group(1))


def wrk(addr, seconds, headers):
    cmd = ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd + [f"http://{addr}/"], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    return {"rps": rps, "requests": total, "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else "none", "p50": p50, "p99": p99}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=20, help="duration of each run (default 20)")
    ap.add_argument("--smoke", action="store_true", help="check errors only (short CI runs are too noisy for ratios)")
    args = ap.parse_args()

    build()
    bin_dir = os.path.join(target_dir(), "release")
    token = mint(bin_dir)
    env = dict(os.environ, STREAM_API_SECRET=SECRET)
    env.pop("RUST_LOG", None)
    server = subprocess.Popen([os.path.join(bin_dir, "stackjwt-authz"), "--listen", "127.0.0.1:0",
                               "--metrics", "127.0.0.1:0"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        addr = server.stdout.readline().strip().rsplit("http://", 1)[1]
        metrics = server.stdout.readline().strip().rsplit("http://", 1)[1].removesuffix("/metrics")
        rss = {}

        def watch():
            while server.poll() is None and len(rss) < 2:
                try:
                    n = served(metrics)
                except OSError:
                    n = 0
                if n >= 10_000 and "first" not in rss:
                    rss["first"] = (n, rss_kib(server.pid))
                if n >= 1_000_000 and "million" not in rss:
                    rss["million"] = (n, rss_kib(server.pid))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        token_run = wrk(addr, args.seconds, ["stream-auth-type: jwt", f"Authorization: {token}"])
        anon_run = wrk(addr, args.seconds, ["stream-auth-type: anonymous"])
        # Top up to a million requests if the two runs fell short (a slow machine).
        while "million" not in rss and served(metrics) < 1_000_000 and not args.smoke:
            wrk(addr, 5, ["stream-auth-type: jwt", f"Authorization: {token}"])
        time.sleep(0.3)
        total = served(metrics)
        end_rss = rss_kib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=15)

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M).group(1)
    except OSError:
        pass
    ratio = token_run["rps"] / anon_run["rps"]
    print(f"stackjwt-authz under wrk (-t2 -c64, {args.seconds} s each), {os.cpu_count()} cores, {cpu}")
    print("| requests | req/s | p50 | p99 | non-2xx | socket errors |")
    print("|---|---|---|---|---|---|")
    for name, r in (("valid user token", token_run), ("anonymous (no token work)", anon_run)):
        print(f"| {name} | {r['rps']:,.0f} | {r['p50']} | {r['p99']} | {r['non2xx']} | {r['socket_errors']} |")
    print(f"token / anonymous requests/s: {ratio:.1%} (goal >= 90%)")
    goals = [("no non-2xx answers to valid tokens", token_run["non2xx"] == 0 and anon_run["non2xx"] == 0)]
    if "first" in rss and "million" in rss:
        (n1, r1), (n2, r2) = rss["first"], rss["million"]
        growth = r2 - r1
        print(f"RSS after {n1:,} requests: {r1:,} KiB; after {n2:,}: {r2:,} KiB (growth {growth:+,} KiB, goal <= 5 MB); "
              f"at the end ({total:,}): {end_rss:,} KiB")
        goals.append(("RSS growth <= 5 MB", growth <= 5 * 1024))
    elif not args.smoke:
        goals.append(("reached 1,000,000 requests", False))
    if not args.smoke:
        goals.append(("token req/s >= 90% of anonymous", ratio >= 0.90))
    failed = [name for name, ok in goals if not ok]
    for name, ok in goals:
        print(f"  {'met  ' if ok else 'UNMET'} {name}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
