"""The stand-in bases of deploy/images/bases (for machines that cannot pull the registry's): the Nginx
base's entry point renders the web image's templates as the registry's Nginx images do."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.tools import DEPLOY

BASES = DEPLOY / "images" / "bases"
NGINX_ENTRYPOINT = BASES / "nginx-entrypoint.sh"
UPSTREAM_TEMPLATE = DEPLOY / "images" / "nginx" / "orchestra-upstream.conf.template"

needs_envsubst = pytest.mark.skipif(not shutil.which("envsubst"), reason="no envsubst (Debian: gettext-base)")


def entrypoint(tmp_path: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the entry point with a fake ``nginx`` that prints its arguments; the output folder it writes."""
    templates, out, bin_dir = tmp_path / "templates", tmp_path / "conf.d", tmp_path / "bin"
    for folder in (templates, out, bin_dir):
        folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(UPSTREAM_TEMPLATE, templates / UPSTREAM_TEMPLATE.name)
    fake = bin_dir / "nginx"
    fake.write_text('#!/bin/sh\necho "nginx $*"\n')
    fake.chmod(0o755)
    environment = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "NGINX_ENVSUBST_TEMPLATE_DIR": str(templates),
        "NGINX_ENVSUBST_OUTPUT_DIR": str(out),
        **env,
    }
    result = subprocess.run(
        ["sh", str(NGINX_ENTRYPOINT), *args], env=environment, capture_output=True, text=True, timeout=30
    )
    return result, out


@needs_envsubst
def test_the_templates_are_rendered_with_the_filtered_variables_only(tmp_path: Path) -> None:
    result, out = entrypoint(
        tmp_path,
        "nginx", "-g", "daemon off;",
        NGINX_ENVSUBST_FILTER="^ORCHESTRA_",
        ORCHESTRA_API_UPSTREAM="api:8000",
        ORCHESTRA_WEB_CONNECT_SRC="https://sso.example.com",
        host="not nginx's $host",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "nginx -g daemon off;\n"
    rendered = (out / "orchestra-upstream.conf").read_text()
    assert "server api:8000 max_fails=2" in rendered
    assert 'default "https://sso.example.com";' in rendered
    assert "map $host $orchestra_connect_src" in rendered  # Nginx's own variable, untouched
    assert "${" not in rendered


@needs_envsubst
def test_an_empty_variable_is_rendered_empty_and_other_commands_render_nothing(tmp_path: Path) -> None:
    # as in the registry's images, only variables that are set are put in: the web image sets both
    result, out = entrypoint(
        tmp_path,
        "nginx",
        NGINX_ENVSUBST_FILTER="^ORCH",
        ORCHESTRA_API_UPSTREAM="x",
        ORCHESTRA_WEB_CONNECT_SRC="",
    )
    assert result.returncode == 0, result.stderr
    assert 'default "";' in (out / "orchestra-upstream.conf").read_text()
    result, out = entrypoint(tmp_path / "shell", "sh", "-c", "echo debugging")
    assert (result.returncode, result.stdout) == (0, "debugging\n")
    assert not list(out.iterdir())
