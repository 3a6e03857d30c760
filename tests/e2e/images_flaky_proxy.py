#!/usr/bin/env python3
"""A proxy in front of the test registry that fails the first request for every path
(503 for most, 429 for blobs), then forwards the rest, so the e2e tests can check that
pulls retry. Standard library only.

    images_flaky_proxy.py PORT UPSTREAM_HOST:PORT LOG
"""
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, UPSTREAM, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
seen = set()
lock = threading.Lock()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        with lock:
            first = self.path not in seen
            seen.add(self.path)
        with open(LOG, "a") as f:
            f.write(f"{'fail' if first else 'pass'} {self.path}\n")
        if first:
            code = 429 if "/blobs/" in self.path else 503
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        req = urllib.request.Request(f"http://{UPSTREAM}{self.path}")
        for h in ("Accept", "Authorization"):
            if self.headers.get(h):
                req.add_header(h, self.headers[h])
        try:
            resp = opener.open(req)
        except urllib.error.HTTPError as e:
            resp = e
        body = resp.read()
        self.send_response(resp.status if hasattr(resp, "status") else resp.code)
        for h in ("Content-Type", "Docker-Content-Digest", "WWW-Authenticate", "Location"):
            v = resp.headers.get(h)
            if v:
                self.send_header(h, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
