"""s5cmd service: run s5cmd commands against the lakehouse's object store over HTTP.

Endpoints
  GET  /health   200 while the process serves requests (liveness)
  GET  /ready    200 when the object store answers `s5cmd ls` (readiness)
  GET  /metrics  Prometheus text format
  POST /v1/run   {"args": ["ls", "s3://bucket/"]} runs s5cmd with those arguments and returns
                 {"exit_code": n, "stdout": "...", "stderr": "..."}; only read and copy
                 subcommands are allowed.

Configuration comes from the environment: S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION, S5CMD_NUMWORKERS, S5CMD_RETRY_COUNT, PORT (default 8080).
Only the standard library is used.
"""

import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ALLOWED = {"ls", "cp", "sync", "du", "cat", "mb"}
ENDPOINT = os.environ.get("S3_ENDPOINT_URL", "")
WORKERS = os.environ.get("S5CMD_NUMWORKERS", "10")
RETRIES = os.environ.get("S5CMD_RETRY_COUNT", "3")
TIMEOUT = int(os.environ.get("S5CMD_TIMEOUT_SECONDS", "300"))

_lock = threading.Lock()
_counts = {}  # (subcommand, outcome) -> count
_seconds = {}  # subcommand -> total seconds
_active = 0


def s5cmd(args, timeout=TIMEOUT):
    cmd = ["s5cmd", "--numworkers", WORKERS, "--retry-count", RETRIES]
    if ENDPOINT:
        cmd += ["--endpoint-url", ENDPOINT]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout, check=False)


def record(sub, ok, seconds):
    with _lock:
        key = (sub, "success" if ok else "failure")
        _counts[key] = _counts.get(key, 0) + 1
        _seconds[sub] = _seconds.get(sub, 0.0) + seconds


def metrics_text():
    lines = [
        "# HELP s5cmd_operations_total s5cmd runs by subcommand and outcome.",
        "# TYPE s5cmd_operations_total counter",
    ]
    with _lock:
        for (sub, outcome), n in sorted(_counts.items()):
            lines.append(f's5cmd_operations_total{{subcommand="{sub}",outcome="{outcome}"}} {n}')
        lines += [
            "# HELP s5cmd_operation_seconds_total Time spent in s5cmd runs by subcommand.",
            "# TYPE s5cmd_operation_seconds_total counter",
        ]
        for sub, s in sorted(_seconds.items()):
            lines.append(f's5cmd_operation_seconds_total{{subcommand="{sub}"}} {s:.3f}')
        lines += [
            "# HELP s5cmd_active_operations s5cmd runs in progress.",
            "# TYPE s5cmd_active_operations gauge",
            f"s5cmd_active_operations {_active}",
        ]
    return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    server_version = "s5cmd-service/0.1"

    def send(self, code, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.send(200, {"status": "ok"})
        elif self.path == "/ready":
            try:
                r = s5cmd(["ls"], timeout=5)
                ok = r.returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
            self.send(200 if ok else 503, {"status": "ready" if ok else "object store unreachable"})
        elif self.path == "/metrics":
            self.send(200, metrics_text(), "text/plain; version=0.0.4")
        else:
            self.send(404, {"error": "not found"})

    def do_POST(self):
        global _active
        if self.path != "/v1/run":
            self.send(404, {"error": "not found"})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            req = json.loads(self.rfile.read(length) or b"{}")
            args = req["args"]
            if not (isinstance(args, list) and args and all(isinstance(a, str) for a in args)):
                raise ValueError("args must be a non-empty list of strings")
        except (ValueError, KeyError) as e:
            self.send(400, {"error": f"bad request: {e}"})
            return
        if args[0] not in ALLOWED:
            self.send(400, {"error": f"subcommand {args[0]!r} is not allowed; allowed: {sorted(ALLOWED)}"})
            return
        with _lock:
            _active += 1
        start = time.monotonic()
        try:
            r = s5cmd(args)
            record(args[0], r.returncode == 0, time.monotonic() - start)
            self.send(200, {"exit_code": r.returncode, "stdout": r.stdout, "stderr": r.stderr})
        except subprocess.TimeoutExpired:
            record(args[0], False, time.monotonic() - start)
            self.send(504, {"error": f"s5cmd did not finish within {TIMEOUT}s"})
        finally:
            with _lock:
                _active -= 1

    def log_message(self, fmt, *args):
        print(f"{self.address_string()} {fmt % args}", flush=True)


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8080"))
    print(f"s5cmd service listening on :{port}, endpoint {ENDPOINT or '(AWS default)'}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
