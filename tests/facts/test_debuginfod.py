"""debuginfod is asked only when the user configured DEBUGINFOD_URLS, through drgn's own
finder (libdebuginfod), bounded in time; what it serves is used, a miss or a stalled
server falls back to the dump's BTF with the reason stated.

The servers are local http.server instances speaking debuginfod's protocol
(GET /buildid/<hex>/debuginfo)."""

import http.server
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

drgn = pytest.importorskip("drgn")
sys.path.insert(0, str(Path(__file__).parent))

from _dbg import ROOT, dbg_vmlinux, dump_identity  # noqa: E402
from triage.facts import read_dump_facts  # noqa: E402

LZO = ROOT / "sample_dumps" / "committed" / "gpu_alloc_null-kdump-lzo" / "vmcore"
pytestmark = pytest.mark.skipif("debuginfod" not in drgn.Program().registered_debug_info_finders(),
                                reason="drgn found no libdebuginfod on this host")


class _Server:
    """A debuginfod server on 127.0.0.1 serving `files` {build id: path}; `stall` seconds
    of silence before any answer; `requests` records the paths asked for."""

    def __init__(self, files=None, stall=0.0):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                try:
                    self._answer()
                except (BrokenPipeError, ConnectionResetError):
                    pass            # the client gave up (the stalled server's purpose)

            def _answer(self):
                outer.requests.append(self.path)
                time.sleep(stall)
                parts = self.path.strip("/").split("/")
                path = (files or {}).get(parts[1]) if len(parts) == 3 and parts[2] == "debuginfo" else None
                if path is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(Path(path).stat().st_size))
                self.end_headers()
                with open(path, "rb") as f:
                    shutil.copyfileobj(f, self.wfile, 1 << 20)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server_env(monkeypatch, tmp_path):
    servers = []

    def start(**kw):
        s = _Server(**kw)
        servers.append(s)
        monkeypatch.setenv("DEBUGINFOD_URLS", s.url)
        monkeypatch.setenv("DEBUGINFOD_CACHE_PATH", str(tmp_path / "cache"))
        monkeypatch.setenv("DEBUGINFOD_MAXTIME", "3")
        monkeypatch.setenv("DEBUGINFOD_TIMEOUT", "3")
        return s
    (tmp_path / "root").mkdir()
    yield start, str(tmp_path / "root")
    for s in servers:
        s.close()


def test_not_asked_without_debuginfod_urls(monkeypatch, server_env):
    start, root = server_env
    s = start()
    monkeypatch.delenv("DEBUGINFOD_URLS")
    facts = read_dump_facts([str(LZO)], search_debuginfo=True, debuginfo_root=root)
    assert s.requests == [] and facts["source"]["method"] == "btf+kallsyms"
    assert facts["source"]["debuginfo"]["rejected"] == []


def test_not_asked_with_search_off(server_env):
    start, root = server_env
    s = start()
    facts = read_dump_facts([str(LZO)], search_debuginfo=False, debuginfo_root=root)
    assert s.requests == [] and facts["source"]["method"] == "btf+kallsyms"


def test_a_miss_falls_back_to_btf_saying_so(server_env):
    start, root = server_env
    s = start()
    facts = read_dump_facts([str(LZO)], search_debuginfo=True, debuginfo_root=root)
    build_id = dump_identity(LZO)[1]
    assert f"/buildid/{build_id}/debuginfo" in s.requests
    src = facts["source"]
    assert src["method"] == "btf+kallsyms" and src["debuginfo"]["file"] is None
    assert len(src["debuginfo"]["rejected"]) == 1 and src["debuginfo"]["rejected"][0].startswith("debuginfod: ")
    assert facts["tasks"]["count"] > 10


@pytest.mark.slow
def test_a_stalled_server_is_given_up_on_in_bounded_time(server_env):
    start, root = server_env
    s = start(stall=30)
    t = time.monotonic()
    facts = read_dump_facts([str(LZO)], search_debuginfo=True, debuginfo_root=root)
    assert time.monotonic() - t < 20 and s.requests
    assert facts["source"]["method"] == "btf+kallsyms"
    assert facts["source"]["debuginfo"]["rejected"][0].startswith("debuginfod: ")


@pytest.mark.slow
@pytest.mark.skipif(dbg_vmlinux() is None, reason="Debian's -dbg vmlinux for 6.1.0-57-amd64 is absent")
def test_served_vmlinux_is_used(server_env, monkeypatch):
    start, root = server_env
    build_id = dump_identity(LZO)[1]
    start(files={build_id: str(dbg_vmlinux())})
    monkeypatch.setenv("DEBUGINFOD_MAXTIME", "120")
    facts = read_dump_facts([str(LZO)], search_debuginfo=True, debuginfo_root=root)
    src = facts["source"]
    assert src["method"] == "dwarf" and src["missing"] == []
    assert src["debuginfo"]["how"] == "debuginfod"
    assert src["debuginfo"]["file"].endswith(f"{build_id}/debuginfo")
    assert len(facts["tasks"]["stacks"]) == facts["tasks"]["count"]
