"""The Hugging Face Hub's HTTP side, on 127.0.0.1, for the push tests: the network is what cannot run here.

huggingface_hub's own client runs unchanged against it (``HfApi``, ``hf_hub_download``, ``create_commit``
with its preupload and ndjson commit requests); only the server's answers are ours, shaped as the Hub
answers the requests that client sends (the paths and fields are those huggingface_hub reads).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

COMMIT = "0" * 39 + "1"  # the repos' one commit


@dataclass
class HubState:
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # repo id -> path -> content, on the server
    commits: list[dict] = field(default_factory=list)  # each commit received: repo, query, header, files
    validated: list[str] = field(default_factory=list)  # each README.md sent to /api/validate-yaml before a commit


def _handler(state: HubState, base_url: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep the test output quiet
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _file(self) -> None:  # /{org}/{name}/resolve/{revision}/{path}; anything else (a registry) is not here
            parts = urlsplit(self.path).path.lstrip("/").split("/", 4)
            content = state.files.get("/".join(parts[:2]), {}).get(parts[4]) if parts[2:3] == ["resolve"] else None
            if content is None:
                self._send(404, b'{"error": "Entry not found"}', {"X-Error-Code": "EntryNotFound"})
                return
            self._send(200, content, {"ETag": f'"{hashlib.sha1(content).hexdigest()}"', "X-Repo-Commit": COMMIT})

        do_HEAD = do_GET = _file

        def do_POST(self) -> None:  # /api/validate-yaml, /api/models/{org}/{name}/{preupload|commit}/{revision}
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if url.path == "/api/validate-yaml":
                state.validated.append(json.loads(body)["content"])
                self._send(200, b'{"errors": [], "warnings": []}')
                return
            _, _, org, name, kind, _ = url.path.lstrip("/").split("/", 5)
            if kind == "preupload":
                paths = [f["path"] for f in json.loads(body)["files"]]
                answer = {"files": [{"path": p, "uploadMode": "regular", "shouldIgnore": False} for p in paths]}
                self._send(200, json.dumps(answer).encode())
                return
            lines = [json.loads(line) for line in body.decode().splitlines() if line]
            files = {x["value"]["path"]: base64.b64decode(x["value"]["content"]) for x in lines if x["key"] == "file"}
            state.commits.append({"repo": f"{org}/{name}", "query": parse_qs(url.query),
                                  "header": lines[0]["value"], "files": files})
            answer = {"commitUrl": f"{base_url}/{org}/{name}/commit/{COMMIT}", "commitOid": COMMIT,
                      "pullRequestUrl": f"{base_url}/{org}/{name}/discussions/{len(state.commits)}"}
            self._send(200, json.dumps(answer).encode())

    return Handler


def serve() -> tuple[ThreadingHTTPServer, str, HubState]:
    """Start the server on a free port; returns it (``shutdown()`` it), its URL and what it holds and receives."""
    state = HubState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    server.RequestHandlerClass = _handler(state, url)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, url, state
