"""gunicorn settings for a web host (TRACKER_* environment comes from /etc/tracker/tracker.env)."""
import multiprocessing
import os

bind = os.environ.get("TRACKER_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("TRACKER_WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("TRACKER_WEB_THREADS", "4"))
# PDFs render in the worker process (tracker scheduler), never here; no request should take long
timeout = 60
graceful_timeout = 30
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("TRACKER_TRUSTED_PROXIES", "127.0.0.1")
accesslog = "-"
# no query strings in the access log: they may carry search terms typed by users
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
