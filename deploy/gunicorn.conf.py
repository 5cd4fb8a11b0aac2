"""gunicorn's settings for ShopSwift, read from the environment.

    gunicorn -c gunicorn.conf.py

| variable | default | meaning |
|---|---|---|
| GUNICORN_BIND | 0.0.0.0:$PORT, PORT defaulting to 8000 | address to listen on |
| GUNICORN_WORKERS, else WEB_CONCURRENCY | 2 x CPU cores + 1 | worker processes |
| GUNICORN_THREADS | 1 | threads per worker; above 1 the gthread worker |
| GUNICORN_TIMEOUT | 30 | seconds a request may take before its worker is restarted |
| GUNICORN_MAX_REQUESTS | 0 (never) | requests after which a worker is replaced |
| GUNICORN_LOG_LEVEL | info | level of gunicorn's own log lines (stderr) |
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path


def _int_from_env(*names, default):
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            try:
                number = int(value)
            except ValueError:
                raise SystemExit(
                    f"{name} must be a whole number, not {value!r}."
                ) from None
            if number < 0:
                raise SystemExit(f"{name} must not be negative, not {value!r}.")
            return number
    return default


wsgi_app = "shopswift.wsgi:application"
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = _int_from_env(
    "GUNICORN_WORKERS",
    "WEB_CONCURRENCY",
    default=multiprocessing.cpu_count() * 2 + 1,
)
threads = _int_from_env("GUNICORN_THREADS", default=1)
# Threads share a worker's memory and its database connections (one per
# thread); sync workers serve one request each.
worker_class = "gthread" if threads > 1 else "sync"

timeout = _int_from_env("GUNICORN_TIMEOUT", default=30)
graceful_timeout = 30
# Longer than nginx keeps an idle upstream connection (4s in deploy/nginx.conf),
# so that nginx never reuses a connection that gunicorn has just closed.
keepalive = 5
max_requests = _int_from_env("GUNICORN_MAX_REQUESTS", default=0)
max_requests_jitter = max_requests // 10

# Each worker imports the application itself: a worker that dies is replaced
# by a fresh import, `kill -HUP` reloads new code gracefully, and nothing
# (database connections, Sentry's thread) is opened before the fork. The
# memory that preloading would share is small at a handful of workers.
preload_app = False

# The access log is the application's (shopswift.access: request id, user,
# duration, JSON in production); gunicorn's own would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# The heartbeat files of the workers: in memory, not on a container's overlay
# disk, where writes can stall.
# Accepted bandit B108: gunicorn's documented place for heartbeat files,
# which it makes there with private names.
if Path("/dev/shm").is_dir():  # nosec B108
    worker_tmp_dir = "/dev/shm"  # nosec B108

# No runtime control socket: one more file per host to secure and keep
# apart between instances; signals (TTIN, TTOU, HUP) do the same jobs.
control_socket_disable = True

# --- Prometheus multiprocess mode ---------------------------------------------------
# Every worker writes its metric values to files in PROMETHEUS_MULTIPROC_DIR
# and /metrics adds them up, whichever worker answers. The variable is set
# here, before any worker imports prometheus_client; the folder is emptied
# when gunicorn starts, so that the counters of an earlier run do not carry on.
# A folder made here is removed again when gunicorn exits.
_own_metrics_folder = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _own_metrics_folder = tempfile.mkdtemp(
        prefix="shopswift-metrics-",
        # Accepted bandit B108: mkdtemp makes a private (0700) random folder.
        dir="/dev/shm" if Path("/dev/shm").is_dir() else None,  # nosec B108
    )
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_metrics_folder


def on_starting(server):
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for values in folder.glob("*.db"):
        values.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    # A dead worker's counts stay in the sums; its live gauges must go.
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_folder:
        shutil.rmtree(_own_metrics_folder, ignore_errors=True)
