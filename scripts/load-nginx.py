#!/usr/bin/env python3
"""Load test of the NGINX module against NGINX without auth and with auth_request.

    python3 scripts/load-nginx.py                 # 3 rounds of 10 s per setup, goal checked
    python3 scripts/load-nginx.py --seconds 2 --rounds 1 --smoke   # short: errors only

One NGINX (the machine's, with the module from nginx/build.sh) serves the same 2-byte static
file on three ports: without auth; with the module (`stackjwt on`); and with `auth_request` to
stackjwt-authz (release build) on the same machine. njs (libnginx-mod-http-js) is not
measured: the table says whether it is installed. wrk (-t2 -c32) sends a valid user token
to each, in interleaved rounds, first with `worker_processes 1`, then `auto`. Reported: req/s
and p99 per setup (the median over rounds), and each against no auth. Goal: the module at
>= 95% of no auth's requests/s. Exits 1 when a goal is missed.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "load-test secret, thirty-two bytes or more"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                sys.exit(f"exited before listening on {port}")
            time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def wrk(port, seconds, token):
    cmd = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-H", "stream-auth-type: jwt",
           "-H", f"Authorization: {token}", f"http://127.0.0.1:{port}/index.txt"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1),
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "errors": errors.group(1) if errors else "none"}


def to_ms(text):
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10, help="duration of each run (default 10)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--smoke", action="store_true", help="check errors only")
    args = ap.parse_args()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"{tool} is not installed")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    module = subprocess.run(["bash", os.path.join(ROOT, "nginx", "build.sh")], check=True, capture_output=True,
                            text=True).stdout.strip().splitlines()[-1]
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "stackjwt-axum", "--features", "server",
                    "--bin", "stackjwt-authz"], cwd=ROOT, check=True)
    target = re.search(r'"target_directory":"([^"]+)"', subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT, check=True, capture_output=True,
        text=True).stdout).group(1)
    token = subprocess.run([os.path.join(target, "release", "stackjwt") if os.path.exists(
        os.path.join(target, "release", "stackjwt")) else "false", "token", "load-test-user", "--exp", "+1h"],
        env=dict(os.environ, STREAM_API_SECRET=SECRET), capture_output=True, text=True).stdout.strip()
    if not token:
        subprocess.run(["cargo", "build", "--quiet", "--release", "--features", "cli", "--bin", "stackjwt"], cwd=ROOT,
                       check=True)
        token = subprocess.run([os.path.join(target, "release", "stackjwt"), "token", "load-test-user", "--exp", "+1h"],
                               env=dict(os.environ, STREAM_API_SECRET=SECRET), check=True, capture_output=True,
                               text=True).stdout.strip()
    njs = os.path.exists("/usr/lib/nginx/modules/ngx_http_js_module.so")

    tmp = tempfile.mkdtemp(prefix="stackjwt-load-nginx-")
    with open(os.path.join(tmp, "secret"), "w") as f:
        f.write(SECRET + "\n")
    os.makedirs(os.path.join(tmp, "html"))
    with open(os.path.join(tmp, "html", "index.txt"), "w") as f:
        f.write("ok")
    # Workers run as an unprivileged user when NGINX starts as root: they read the file and
    # the secret is read by the master, at configuration load.
    for path in (tmp, os.path.join(tmp, "html"), os.path.join(tmp, "html", "index.txt")):
        os.chmod(path, 0o755)
    authz_port = free_port()
    authz = subprocess.Popen([os.path.join(target, "release", "stackjwt-authz"), "--listen",
                              f"127.0.0.1:{authz_port}"], env=dict(os.environ, STREAM_API_SECRET=SECRET,
                                                                       RUST_LOG="warn"),
                             stdout=subprocess.DEVNULL)
    wait_port(authz_port, authz)
    ports = {"no auth": free_port(), "the module": free_port(), "auth_request to stackjwt-authz": free_port()}
    results = {}
    try:
        for workers in ("1", "auto"):
            conf = os.path.join(tmp, "nginx.conf")
            with open(conf, "w") as f:
                f.write(f"""load_module {module};
daemon off;
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    root {tmp}/html;
    upstream authz {{ server 127.0.0.1:{authz_port}; keepalive 32; }}
    server {{ listen 127.0.0.1:{ports["no auth"]}; }}
    server {{
        listen 127.0.0.1:{ports["the module"]};
        stackjwt on;
        stackjwt_secret_file {tmp}/secret;
    }}
    server {{
        listen 127.0.0.1:{ports["auth_request to stackjwt-authz"]};
        location / {{ auth_request /_auth; }}
        location = /_auth {{
            internal;
            proxy_pass http://authz/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
        }}
    }}
}}
""")
            server = subprocess.Popen([nginx, "-p", tmp, "-e", f"{tmp}/error.log", "-c", conf],
                                      stdout=subprocess.DEVNULL)
            try:
                for port in ports.values():
                    wait_port(port, server)
                runs = {name: [] for name in ports}
                for _ in range(args.rounds):
                    for name, port in ports.items():
                        runs[name].append(wrk(port, args.seconds, token))
                results[workers] = runs
            finally:
                server.send_signal(signal.SIGQUIT)
                server.wait(timeout=15)
            with open(f"{tmp}/error.log") as f:
                if "exited on signal" in f.read():
                    sys.exit("an NGINX worker crashed")
    finally:
        authz.terminate()
        authz.wait(timeout=15)
        shutil.rmtree(tmp, ignore_errors=True)

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M).group(1)
    except OSError:
        pass
    size = os.path.getsize(module)
    print(f"NGINX {subprocess.run([nginx, '-v'], capture_output=True, text=True).stderr.strip().split('/')[-1]}, "
          f"wrk -t2 -c32, {args.rounds} interleaved rounds of {args.seconds} s, median; {os.cpu_count()} cores, {cpu}; "
          f"module {size:,} bytes")
    print("| setup | workers | req/s | vs no auth | p99 | non-2xx |")
    print("|---|---|---|---|---|---|")
    goals = []
    for workers, runs in results.items():
        base = statistics.median(r["rps"] for r in runs["no auth"])
        for name, rs in runs.items():
            rps = statistics.median(r["rps"] for r in rs)
            p99 = statistics.median(to_ms(r["p99"]) for r in rs)
            non2xx = sum(r["non2xx"] for r in rs)
            print(f"| {name} | {workers} | {rps:,.0f} | {rps / base:.1%} | {p99:.2f} ms | {non2xx} |")
            goals.append((f"no failed requests ({name}, {workers})", non2xx == 0 and all(r["errors"] == "none" for r in rs)))
            if name == "the module" and not args.smoke:
                goals.append((f"the module >= 95% of no auth ({workers} worker(s))", rps / base >= 0.95))
    print("| njs (libnginx-mod-http-js) | - | " + ("installed, not measured" if njs else "not installed") + " | | | |")
    for name, ok in goals:
        print(f"  {'met  ' if ok else 'UNMET'} {name}")
    sys.exit(0 if all(ok for _, ok in goals) else 1)


if __name__ == "__main__":
    main()
