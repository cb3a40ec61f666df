"""Debian's Nginx with the production configuration of ``deploy/nginx/`` in front of Orchestra's API, as a
process of its own: its own prefix (configuration, logs, temporary files, pid) under a folder, on a free
loopback port, in the foreground (never the machine's Nginx service).

Only what cannot be literal on this machine is replaced in the shipped files: the port Nginx listens on, the
folder of the web build, the API replicas' addresses and the single sign-on origin. The files are otherwise
served as shipped; a replacement that no longer finds its line fails loudly.

Used by the Compose topology test and, as ``python -m tests.e2e.nginx_front``, by the web application's
Playwright suite (it prints ``nginx http://127.0.0.1:PORT`` once Nginx answers, then runs until SIGTERM; exit
code 3 when Nginx is not installed)."""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "deploy" / "nginx" / "orchestra.conf"
UPSTREAM = REPO / "deploy" / "nginx" / "orchestra-upstream.conf"
IMAGE_UPSTREAM = REPO / "deploy" / "images" / "nginx" / "orchestra-upstream.conf.template"
WEB_BUILD = REPO / "src" / "orchestra" / "web_dist"
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
MISSING = "nginx is missing: `make nginx` installs Debian's (as root)"
SHIPPED_LISTEN = "    listen 8080;\n    listen [::]:8080;\n"
SHIPPED_ROOT = "    root /usr/share/orchestra/web;\n"
SHIPPED_INCLUDE = "include /etc/nginx/orchestra.conf;\n"
SERVER_LINE = re.compile(r"^    server \S+ (max_fails=.*;)\n", re.MULTILINE)
CONNECT_SRC = re.compile(r'^(map \$host \$orchestra_connect_src \{\n    default )"[^"\n]*";$', re.MULTILINE)


def _replace(text: str, old: str, new: str, what: str) -> str:
    assert text.count(old) == 1, f"the shipped configuration no longer has one {what} line: {old!r}"
    return text.replace(old, new)


def site(port: int, html: Path) -> str:
    """deploy/nginx/orchestra.conf, listening on ``127.0.0.1:port`` and serving the build at ``html``."""
    text = _replace(SITE.read_text(), SHIPPED_LISTEN, f"    listen 127.0.0.1:{port};\n", "listen")
    return _replace(text, SHIPPED_ROOT, f"    root {html};\n", "root")


def upstream(apis: list[str], connect_src: str = "") -> str:
    """deploy/nginx/orchestra-upstream.conf with these API replicas (``host:port``) and this origin."""
    text = UPSTREAM.read_text()
    servers = SERVER_LINE.findall(text)
    assert servers, f"{UPSTREAM} names no API replica"
    first = SERVER_LINE.search(text)
    assert first is not None
    lines = "".join(f"    server {api} {servers[0]}\n" for api in apis)
    text = text[: first.start()] + lines + SERVER_LINE.sub("", text[first.start() :])
    text, found = CONNECT_SRC.subn(rf'\g<1>"{connect_src}";', text)
    assert found == 1, f"{UPSTREAM} no longer sets $orchestra_connect_src in one map"
    return text


def image_upstream(apis: list[str], connect_src: str, site_file: Path) -> str:
    """The web image's template as its start renders it (the ORCHESTRA_* variables filled in; a name such as
    Compose's ``api`` that resolves to every replica stands for one server line per replica here)."""
    template = IMAGE_UPSTREAM.read_text()
    first, *others = apis
    values = {"${ORCHESTRA_API_UPSTREAM}": first, "${ORCHESTRA_WEB_CONNECT_SRC}": connect_src}
    text = template
    for variable, value in values.items():
        text = text.replace(variable, value)
    assert "${" not in text, "the image's template names a variable this test does not fill in"
    line = next(line for line in text.splitlines(keepends=True) if line.startswith(f"    server {first} "))
    text = text.replace(line, line + "".join(line.replace(first, other) for other in others))
    return _replace(text, SHIPPED_INCLUDE, f"include {site_file};\n", "include")


def _worker_user(html: Path) -> str:
    """Started as root, the workers run as whoever owns the files they serve (Nginx's default, nobody, may
    not reach a checkout); otherwise they run as the one who started it."""
    if os.geteuid() != 0:
        return ""
    owner = html.stat()
    return f"user {pwd.getpwuid(owner.st_uid).pw_name} {grp.getgrgid(owner.st_gid).gr_name};\n"


def write_configuration(
    prefix: Path, port: int, apis: list[str], html: Path, connect_src: str = "", image: bool = False
) -> Path:
    """The configuration under ``prefix`` (Debian's files: ``deploy/nginx/``; ``image``: the web image's
    rendering); returns its main file."""
    prefix.mkdir(parents=True, exist_ok=True)
    prefix.chmod(0o755)  # workers that run as another user reach their temporary folders
    conf_d = prefix / "conf.d"
    conf_d.mkdir(exist_ok=True)
    if image:
        site_file = prefix / "orchestra.conf"
        site_file.write_text(site(port, html))
        (conf_d / "default.conf").write_text(image_upstream(apis, connect_src, site_file))
    else:
        (conf_d / "orchestra.conf").write_text(site(port, html))
        (conf_d / "orchestra-upstream.conf").write_text(upstream(apis, connect_src))
    main = prefix / "nginx.conf"
    main.write_text(
        f"{_worker_user(html)}worker_processes 1;\n"
        f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
        f"  access_log {prefix}/access.log;\n"
        f"  client_body_temp_path {prefix}/body;\n  proxy_temp_path {prefix}/proxy;\n"
        f"  fastcgi_temp_path {prefix}/fastcgi;\n  uwsgi_temp_path {prefix}/uwsgi;\n"
        f"  scgi_temp_path {prefix}/scgi;\n"
        f"  include {conf_d}/*.conf;\n"
        "}\n"
    )
    return main


@dataclass
class NginxFront:
    """Nginx started on ``main`` (its prefix the file's folder), answering at ``url``."""

    main: Path
    url: str
    popen: subprocess.Popen[bytes]

    @classmethod
    def start(cls, main: Path, port: int, timeout_s: float = 30) -> NginxFront:
        assert NGINX is not None, MISSING
        prefix = main.parent
        command = [NGINX, "-p", str(prefix), "-c", str(main), "-e", str(prefix / "error.log")]
        tested = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert tested.returncode == 0, f"nginx -t refused the configuration:\n{tested.stderr}"
        with (prefix / "stderr.log").open("wb") as log:
            popen = subprocess.Popen([*command, "-g", "daemon off;"], stderr=log, stdout=log)
        front = cls(main, f"http://127.0.0.1:{port}", popen)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{front.url}/healthz", timeout=2).text == "ok\n":
                    return front
            except httpx.HTTPError:
                pass
            if popen.poll() is not None or time.monotonic() > deadline:
                front.stop()
                raise AssertionError(f"nginx did not answer within {timeout_s} s:\n{front.errors()}")
            time.sleep(0.1)

    def errors(self) -> str:
        logs = [self.main.parent / name for name in ("stderr.log", "error.log")]
        return "".join(path.read_text(errors="replace") for path in logs if path.exists())

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()  # SIGTERM: a fast shutdown, open streams closed
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", action="append", required=True, help="host:port of an API replica (repeat)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--prefix", type=Path, required=True, help="Nginx's own folder (created)")
    parser.add_argument("--html", type=Path, default=WEB_BUILD, help="the web build")
    parser.add_argument("--connect-src", default="", help="the single sign-on issuer's origin")
    options = parser.parse_args()
    if NGINX is None:
        sys.stderr.write(MISSING + "\n")
        return 3
    main_file = write_configuration(
        options.prefix.resolve(), options.port, options.api, options.html.resolve(), options.connect_src
    )
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    front = NginxFront.start(main_file, options.port)
    try:
        sys.stdout.write(f"nginx {front.url}\n")
        sys.stdout.flush()
        while not stopping and front.popen.poll() is None:
            time.sleep(0.2)
        return 0 if stopping else 1
    finally:
        front.stop()


if __name__ == "__main__":
    sys.exit(main())
