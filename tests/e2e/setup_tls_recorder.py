#!/usr/bin/env python3
"""A TLS server posing as a minik server with ANOTHER CA: it serves /cacerts with that CA
and records every request (line and headers) it receives to a file, so a test can prove a
joining agent sent no secret to it.
usage: setup_tls_recorder.py PORT CERT KEY CA_PEM RECORD_FILE"""
import http.server
import ssl
import sys

port, cert, key, ca_pem, record = sys.argv[1:6]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        with open(record, "a") as f:
            f.write(self.requestline + "\n" + str(self.headers) + "\n")
        body = open(ca_pem, "rb").read() if self.path == "/cacerts" else b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET


srv = http.server.HTTPServer(("127.0.0.1", int(port)), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
