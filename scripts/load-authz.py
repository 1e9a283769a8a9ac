#!/usr/bin/env python3
"""Load test of stackjwt-authz with wrk: valid user tokens against anonymous requests.

    python3 scripts/load-authz.py            # the full run: 20 s each, goals checked
    python3 scripts/load-authz.py --seconds 2 --smoke   # CI: short, only errors checked
    python3 scripts/load-authz.py --fleet    # two instances, one redis-server, two apps
    python3 scripts/load-authz.py --fleet --revoked 1000000   # the same with a million revoked users

One stackjwt-authz (release build) serves both runs, back to back, with 64 keep-alive
connections each: first requests carrying a valid user token (`stream-auth-type: jwt`), then
the same requests as `stream-auth-type: anonymous` (no token work). The server's resident
memory is read from /proc after its first 10,000 requests and after 1,000,000 (the metrics
endpoint counts them). Goals (full run): token requests/s >= 90% of anonymous, zero non-2xx
answers, RSS growth <= 5 MB. Exits 1 when a goal is missed.

Fleet mode (--fleet): a redis-server on a free port holding 10,000 revoked users of app k1
(--revoked N), two stackjwt-authz instances of two apps (k1, k2) following it. Reported: the
time from starting the first instance to the second refusing the last revoked user (goal:
under 10 s for a million), resident memory per revoked user (against an instance without
Redis); token against
anonymous requests/s on one instance (goal >= 85%); Redis commands during that run, by
command and per request (goal: none per request: only the mirrors' own pings and resyncs);
the time from an admin revoke on one instance to a refusal by the other, over 100
revocations (goal: p99 under 100 ms); failed requests while that instance gets SIGHUP 20
times under load (goal: 0).
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import tempfile
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
    return sum(int(n) for n in re.findall(r"^stackjwt_authz_check_seconds_count\{[^}]*\} (\d+)$", text, re.M))


def wrk(addr, seconds, headers, path="/"):
    cmd = ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd + [f"http://{addr}{path}"], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    return {"rps": rps, "requests": total, "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else "none", "p50": p50, "p99": p99}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M).group(1)
    except OSError:
        return "unknown CPU"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(secret, claims):
    """A token as any HS256 signer makes it (the fleet needs hundreds)."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_cli(port, *args, stdin=None):
    return subprocess.run(["redis-cli", "-p", str(port), *args], input=stdin, check=True, capture_output=True,
                          text=True).stdout.strip()


def start_authz(bin_dir, config):
    proc = subprocess.Popen([os.path.join(bin_dir, "stackjwt-authz"), "--config", config, "--listen", "127.0.0.1:0",
                             "--metrics", "127.0.0.1:0", "--admin", "127.0.0.1:0"],
                            env=dict(os.environ, RUST_LOG="warn"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    addrs = [proc.stdout.readline().strip().rsplit("http://", 1)[1] for _ in range(3)]
    return proc, addrs[0], addrs[1].removesuffix("/metrics"), addrs[2].removesuffix("/revoke")


def fleet(args, bin_dir):
    """Two instances, one redis-server, two apps: the issue's four figures."""
    for tool in ("redis-server", "redis-cli", "wrk"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (apt-get install redis-server wrk)")
    tmp = tempfile.mkdtemp(prefix="stackjwt-fleet-")
    secrets = {"k1": "fleet secret of app k1, 32 bytes or more", "k2": "fleet secret of app k2, 32 bytes or more"}
    port = free_port()
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL)
    procs = [redis]
    try:
        for _ in range(100):
            try:
                if redis_cli(port, "PING") == "PONG":
                    break
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.05)
        # Revoked users of k1 (gone-1 .. gone-N), so that the mirror is not empty.
        fill = "for i = 1, tonumber(ARGV[1]) do redis.call('HSET', KEYS[1], 'gone-' .. i, ARGV[2]) end"
        redis_cli(port, "EVAL", fill, "1", "stackjwt:k1:revoked", str(args.revoked), "2000000000")
        config = os.path.join(tmp, "stackjwt-authz.toml")
        with open(config, "w") as f:
            f.write(f'[redis]\nurl = "redis://127.0.0.1:{port}/0"\nmax_staleness = 30\n')
            for k, secret in secrets.items():
                with open(os.path.join(tmp, k), "w") as s:
                    s.write(secret + "\n")
                f.write(f'[[app]]\napi_key = "{k}"\nsecret_file = "{os.path.join(tmp, k)}"\n')
        started = time.perf_counter()
        one, two = start_authz(bin_dir, config), start_authz(bin_dir, config)
        procs += [one[0], two[0]]
        now = int(time.time())
        last = hs256(secrets["k1"], {"user_id": f"gone-{args.revoked}", "iat": now - 60})
        probe = http.client.HTTPConnection(two[1], timeout=5)
        while True:
            probe.request("GET", "/", headers={"stream-auth-type": "jwt", "Authorization": last,
                                                "X-Original-URI": "/?api_key=k1"})
            answer = probe.getresponse()
            answer.read()
            if answer.status == 401:
                break
            if time.perf_counter() - started > 60:
                sys.exit(f"gone-{args.revoked} not refused within 60 s")
            time.sleep(0.01)
        load_seconds = time.perf_counter() - started
        # The same apps without Redis: what the process takes without the mirror.
        bare_config = os.path.join(tmp, "bare.toml")
        with open(config) as f:
            text = f.read()
        with open(bare_config, "w") as b:
            b.write(text[text.index("[[app]]"):])
        bare = start_authz(bin_dir, bare_config)
        procs.append(bare[0])
        per_user = (rss_kib(two[0].pid) - rss_kib(bare[0].pid)) * 1024 / args.revoked
        token = hs256(secrets["k1"], {"user_id": "load-test-user", "iat": now - 60, "exp": now + 3600})
        jwt = ["stream-auth-type: jwt", f"Authorization: {token}"]

        # 1. Throughput, and Redis' commands meanwhile.
        redis_cli(port, "CONFIG", "RESETSTAT")
        before = served(one[2])
        token_run = wrk(one[1], args.seconds, jwt, "/?api_key=k1")
        anon_run = wrk(one[1], args.seconds, ["stream-auth-type: anonymous"], "/?api_key=k1")
        requests = served(one[2]) - before
        stats = redis_cli(port, "INFO", "commandstats")
        calls = {m.group(1): int(m.group(2)) for m in re.finditer(r"cmdstat_(\w+):calls=(\d+)", stats)}
        calls.pop("config", None)
        calls.pop("info", None)
        commands = sum(calls.values())

        # 2. Revoke on one, refused by the other: 100 times.
        delays = []
        admin = http.client.HTTPConnection(one[3], timeout=5)
        check = http.client.HTTPConnection(two[1], timeout=5)
        server_token = hs256(secrets["k1"], {"server": True})
        for i in range(100):
            user = hs256(secrets["k1"], {"user_id": f"p-{i}", "iat": now - 60})
            headers = {"stream-auth-type": "jwt", "Authorization": user, "X-Original-URI": "/?api_key=k1"}
            check.request("GET", "/", headers=headers)
            first = check.getresponse()
            first.read()
            if first.status != 200:
                sys.exit(f"user p-{i} was refused before its revocation ({first.status})")
            body = json.dumps({"user_id": f"p-{i}", "revoke_tokens_issued_before": now})
            start = time.perf_counter()
            admin.request("POST", "/revoke?api_key=k1", body=body,
                          headers={"stream-auth-type": "jwt", "Authorization": server_token,
                                   "Content-Type": "application/json"})
            answer = admin.getresponse()
            answer.read()
            if answer.status != 200:
                sys.exit(f"admin revoke answered {answer.status}")
            while True:
                check.request("GET", "/", headers=headers)
                r = check.getresponse()
                r.read()
                if r.status == 401:
                    break
                if time.perf_counter() - start > 5:
                    sys.exit("a revocation did not reach the other instance within 5 s")
            delays.append((time.perf_counter() - start) * 1000)
        delays.sort()

        # 3. SIGHUP 20 times under load.
        hup_seconds = max(args.seconds, 10)
        result = {}
        load = threading.Thread(target=lambda: result.update(run=wrk(one[1], hup_seconds, jwt, "/?api_key=k1")))
        load.start()
        time.sleep(0.5)
        for _ in range(20):
            one[0].send_signal(signal.SIGHUP)
            time.sleep((hup_seconds - 1.5) / 20)
        load.join()
        reloads = urllib.request.urlopen(f"http://{one[2]}/metrics", timeout=5).read().decode()
        ok_reloads = int(re.search(r'^stackjwt_authz_config_reloads_total\{result="ok"\} (\d+)$', reloads, re.M).group(1))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=15)
        shutil.rmtree(tmp, ignore_errors=True)

    ratio = token_run["rps"] / anon_run["rps"]
    hup = result["run"]
    pct = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
    print(f"stackjwt-authz fleet: 2 instances, 1 redis-server, 2 apps, {args.revoked:,} revoked users mirrored; "
          f"wrk -t2 -c64, {args.seconds} s each; {os.cpu_count()} cores, {cpu_name()}")
    print(f"{args.revoked:,} revoked users: the second instance refused the last {load_seconds:.2f} s after the "
          f"first started; resident memory per revoked user: {per_user:.0f} bytes")
    print("| requests (instance 1, app k1) | req/s | p50 | p99 | non-2xx | socket errors |")
    print("|---|---|---|---|---|---|")
    for name, r in (("valid user token", token_run), ("anonymous (no token work)", anon_run)):
        print(f"| {name} | {r['rps']:,.0f} | {r['p50']} | {r['p99']} | {r['non2xx']} | {r['socket_errors']} |")
    print(f"token / anonymous requests/s: {ratio:.1%} (goal >= 85%)")
    print(f"Redis commands during both runs ({requests:,} requests): {commands} "
          f"({', '.join(f'{k} {v}' for k, v in sorted(calls.items())) or 'none'}), "
          f"{commands / max(requests, 1):.6f} per request")
    print(f"admin revoke on instance 1 -> refused by instance 2, 100 revocations: p50 {pct(0.5):.1f} ms, "
          f"p99 {pct(0.99):.1f} ms, max {delays[-1]:.1f} ms (goal p99 < 100 ms)")
    print(f"20 SIGHUPs during {hup_seconds} s of load: {ok_reloads} reloads ok, {hup['requests']:,} requests, "
          f"{hup['non2xx']} non-2xx, socket errors: {hup['socket_errors']} (goal 0 failed)")
    # Pings and resyncs happen on a timer, whatever the load: per-request commands are those
    # beyond them.
    per_request = {k: v for k, v in calls.items() if k not in ("ping", "hscan", "get", "subscribe", "hello",
                                                                  "client", "select")}
    goals = [
        ("token req/s >= 85% of anonymous", ratio >= 0.85 or args.smoke),
        ("no Redis command per request (only timed pings and resyncs)", not per_request and commands < requests / 100),
        ("revocation p99 < 100 ms", pct(0.99) < 100),
        ("a million revoked users load within 10 s", args.revoked < 1_000_000 or load_seconds < 10),
        ("no failed request during 20 reloads", hup["non2xx"] == 0 and hup["socket_errors"] == "none" and ok_reloads == 20),
        ("no non-2xx answers to valid tokens", token_run["non2xx"] == 0 and anon_run["non2xx"] == 0),
    ]
    for name, ok in goals:
        print(f"  {'met  ' if ok else 'UNMET'} {name}")
    sys.exit(0 if all(ok for _, ok in goals) else 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=20, help="duration of each run (default 20)")
    ap.add_argument("--smoke", action="store_true", help="check errors only (short CI runs are too noisy for ratios)")
    ap.add_argument("--fleet", action="store_true", help="two instances, one redis-server, two apps")
    ap.add_argument("--revoked", type=int, default=10_000, help="fleet: revoked users of app k1 (default 10,000)")
    args = ap.parse_args()
    if args.fleet:
        build()
        return fleet(args, os.path.join(target_dir(), "release"))

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

    cpu = cpu_name()
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
