"""A web server on 127.0.0.1 for the worker to fetch from: serves the files a test puts in `files`,
redirects `/redirect?to=URL`, 404s the rest, and records every path requested."""
import http.server
import threading
from urllib.parse import parse_qs, urlsplit


class LocalWeb(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = {}  # path → (content type, body)
        self.requested = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "LocalWeb":
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requested.append(self.path)
        url = urlsplit(self.path)
        if url.path == "/redirect":
            self.send_response(302)
            self.send_header("location", parse_qs(url.query)["to"][0])
            self.send_header("content-length", "0")
            self.end_headers()
            return
        if self.path not in self.server.files:
            self.send_error(404)
            return
        kind, body = self.server.files[self.path]
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass
