"""gunicorn's settings for deploy/cnscd.service: `gunicorn -c deploy/gunicorn.conf.py`.

The app's own settings come from the env file; GUNICORN_CMD_ARGS or command-line options override these.
"""
import os

wsgi_app = "wsgi:app"
chdir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# nginx (deploy/nginx-cnscd.conf) proxies to this address.
bind = "127.0.0.1:8000"
# Sync workers: each serves one request at a time. Sign-in limits are shared through Redis
# (RATELIMIT_STORAGE_URI), so they hold across workers.
workers = 3
timeout = 60
graceful_timeout = 20

# Access log on, to standard output (the journal under systemd). The user's address is the one nginx
# forwarded; the path is logged without its query string, which may hold a searched household's name.
# %(t)s carries the zone, and so do the error log's times.
accesslog = "-"
errorlog = "-"
access_log_format = '%({x-forwarded-for}i)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %(t)s "%(a)s"'

# gunicorn's control socket would go under the user's home, which the service user has none of
# (and ProtectSystem makes read-only): restarts and reloads go through systemctl instead.
control_socket_disable = True
