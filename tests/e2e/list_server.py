#!/usr/bin/env python3
"""list_server.py - the HTTPS list server of tests/e2e/fetch.sh.

Serves the files of DIR over HTTPS with an ETag and a Last-Modified,
answering 304 to a matching If-None-Match. DIR/mode says how to answer
instead: "normal", "500", "html" (a 200 error page) or "garbage" (binary
bytes). Each request is appended to DIR/requests.log as "PATH STATUS".
A path listed in DIR/hang (one a line) is held, nothing sent, for as
long as it stays listed (two minutes at most), then served; "PATH hang"
is logged when it starts to wait.
"""
import hashlib
import http.server
import os
import ssl
import sys
import time
from email.utils import formatdate


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", ctype="text/plain", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        with open(os.path.join(DIR, "requests.log"), "a") as log:
            log.write("%s %d %s\n" % (self.path, status,
                                      self.headers.get("If-None-Match", "-")))

    def hung(self):
        try:
            with open(os.path.join(DIR, "hang")) as f:
                return self.path in f.read().split()
        except OSError:
            return False

    def do_GET(self):
        if self.hung():
            with open(os.path.join(DIR, "requests.log"), "a") as log:
                log.write("%s hang\n" % self.path)
            deadline = time.time() + 120
            while self.hung() and time.time() < deadline:
                time.sleep(0.1)
        try:
            with open(os.path.join(DIR, "mode")) as f:
                mode = f.read().strip()
        except OSError:
            mode = "normal"
        if mode == "500":
            return self.reply(500, b"internal error\n")
        if mode == "html":
            return self.reply(200, b"<!DOCTYPE html>\n<html><body>Please "
                              b"log in</body></html>\n", "text/html")
        if mode == "garbage":
            return self.reply(200, b"\x89PNG\r\n\x1a\n\x00\x00" +
                              os.urandom(2048), "application/octet-stream")
        path = os.path.join(DIR, "files", self.path.lstrip("/"))
        try:
            with open(path, "rb") as f:
                body = f.read()
        except OSError:
            return self.reply(404, b"not found\n")
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
        if self.headers.get("If-None-Match") == etag:
            return self.reply(304, b"", headers={"ETag": etag})
        return self.reply(200, body, headers={
            "ETag": etag,
            "Last-Modified": formatdate(os.path.getmtime(path), usegmt=True),
        })


if __name__ == "__main__":
    addr, port, cert, key, DIR = sys.argv[1:6]
    server = http.server.ThreadingHTTPServer((addr, int(port)), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("listening", flush=True)
    server.serve_forever()
