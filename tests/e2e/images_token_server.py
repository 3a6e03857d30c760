#!/usr/bin/env python3
"""A minimal Docker registry token server for the e2e tests (standard library + the
openssl CLI), so the bearer-token flow runs against docker-registry's real token auth.

    images_token_server.py PORT KEY CERT ISSUER LOG USER:PASS

GET /token?service=S&scope=repository:NAME:ACTIONS answers {"token": JWT} signed RS256
with KEY, the CERT in the x5c header. Anonymous callers get pull access to everything but
"private/*"; USER:PASS (basic auth) gets what it asks for; wrong credentials get 401.
Each request is appended to LOG as one line: user=... service=... scope=...
"""
import base64
import json
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT, KEY, CERT, ISSUER, LOG, CREDS = sys.argv[1:7]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


with open(CERT) as f:
    pem = f.read()
der = base64.b64decode("".join(l for l in pem.splitlines() if "-----" not in l))


def sign(claims):
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=signing_input.encode(),
                         capture_output=True, check=True).stdout
    return signing_input + "." + b64(sig)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        if url.path != "/token":
            self.send_error(404)
            return
        q = parse_qs(url.query)
        user = ""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            given = base64.b64decode(auth[6:]).decode(errors="replace")
            if given != CREDS:
                with open(LOG, "a") as f:
                    f.write(f"rejected user={given.split(':')[0]}\n")
                self.send_response(401)
                self.end_headers()
                return
            user = given.split(":")[0]
        service = q.get("service", [""])[0]
        access = []
        for scope in q.get("scope", []):
            for one in scope.split(" "):
                parts = one.split(":")
                if len(parts) < 3 or parts[0] != "repository":
                    continue
                name, actions = ":".join(parts[1:-1]), parts[-1].split(",")
                if not user:
                    actions = [a for a in actions if a == "pull" and not name.startswith("private/")]
                access.append({"type": "repository", "name": name, "actions": actions})
        with open(LOG, "a") as f:
            f.write(f"user={user or 'anonymous'} service={service} scope={' '.join(q.get('scope', []))}\n")
        now = int(time.time())
        token = sign({"iss": ISSUER, "sub": user, "aud": service, "exp": now + 300, "nbf": now - 10,
                      "iat": now, "jti": str(time.time_ns()), "access": access})
        body = json.dumps({"token": token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
