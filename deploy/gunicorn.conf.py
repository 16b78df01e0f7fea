"""gunicorn for Pitboss behind nginx (deploy/nginx.conf, ADR 0011).

Two gthread workers per core, two threads each. A process runs Python on one core at a time
(the GIL); a second thread overlaps one request's waits for PostgreSQL and Redis with another's
work, and more threads only queue for the GIL: on the 2-core benchmark machine, 200 single
events a second saturated 2 workers × 8 threads in every run (p50 0.4–1.8 s), while 4 × 2 and
3 × 4 kept the median at 5–8 ms (bench/README.md, "Server shape"). nginx hands gunicorn only
whole requests, so no slow client holds a thread.
"""

import glob
import os
import tempfile

# the cores this process may run on (a container's cpuset, not the host's count; a CPU quota
# without a cpuset is not seen: set GUNICORN_WORKERS there)
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * (CORES or 1)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 120  # an import upload is checked synchronously
graceful_timeout = 30
keepalive = 15  # nginx keeps upstream connections open
max_requests = 10_000  # recycle workers now and then
max_requests_jitter = 1_000
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None

# Prometheus metrics summed over the workers (prometheus_client's multiprocess mode, ADR 0019):
# each worker writes its values to files in this directory and /metrics reads them all. Set
# before the workers import the application; a directory of our own unless one is given.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="pitboss-metrics-"))


def on_starting(server) -> None:
    """Values of an earlier run's workers are not this run's."""
    for stale in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(stale)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
