"""gunicorn for Pitboss behind nginx (deploy/nginx.conf, ADR 0011).

Threads, not processes, per core: a request spends most of its time waiting on PostgreSQL.
nginx hands gunicorn only whole requests, so no slow client holds a thread.
"""

import multiprocessing
import os

workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 120  # an import upload is checked synchronously
graceful_timeout = 30
keepalive = 15  # nginx keeps upstream connections open
max_requests = 10_000  # recycle workers now and then
max_requests_jitter = 1_000
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = None
