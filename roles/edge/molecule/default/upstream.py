#!/usr/bin/python3
"""The edge's test upstream: HTTPS on 127.0.0.1:8443 with the published name's certificate
(the site CA's), answering every GET with what it was asked and who the edge says asked."""

import http.server
import json
import ssl


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"upstream": "ok", "path": self.path,
                           "forwarded_for": self.headers.get("X-Forwarded-For"),
                           "host": self.headers.get("Host")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("/etc/nginx/courtcloud/published.crt",
                        "/etc/nginx/courtcloud/published.key")
server = http.server.ThreadingHTTPServer(("127.0.0.1", 8443), Handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
