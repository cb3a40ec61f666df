"""deploy/compose: the Compose file is valid against the Compose specification once its variables are
filled in from example.env, its services wait for healthy dependencies, and its secrets come from files
that make-secrets.sh makes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema
from jsonschema.validators import validator_for

from tests.deploy.tools import DEPLOY

COMPOSE = DEPLOY / "compose"
VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}")
LONG_RUNNING = {
    *("postgres", "rabbitmq", "keycloak", "ollama", "api", "executor", "ai", "web", "prometheus", "grafana")
}


def example_env() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (COMPOSE / "example.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``${NAME}`` and ``${NAME:-default}``, as `docker compose config` fills them in."""

    def value(match: re.Match[str]) -> str:
        given = env.get(match["name"], "")
        return given if given else (match["default"] or "")

    return VARIABLE.sub(value, text)


def compose_file(env: dict[str, str] | None = None) -> dict[str, Any]:
    text = interpolate((COMPOSE / "compose.yaml").read_text(), example_env() if env is None else env)
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def test_every_variable_the_compose_file_uses_is_documented_in_example_env() -> None:
    used = {match["name"] for match in VARIABLE.finditer((COMPOSE / "compose.yaml").read_text())}
    assert used - set(example_env()) == set()


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = get_builtin_schema("vendor.compose-spec")
    for env in (example_env(), {}):  # with the example's settings and with the file's own defaults
        errors = sorted(validator_for(schema)(schema).iter_errors(compose_file(env)), key=str)
        assert [f"{list(error.absolute_path)}: {error.message}" for error in errors] == []


def test_the_topology_the_issue_asks_for() -> None:
    services = compose_file()["services"]
    assert set(services) == LONG_RUNNING | {"migrate"}
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["executor"]["deploy"]["replicas"] == 2
    assert services["ollama"]["profiles"] == ["ollama"]
    assert services["prometheus"]["profiles"] == services["grafana"]["profiles"] == ["monitoring"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    assert "--import-realm" in services["keycloak"]["command"]
    assert "management" in services["rabbitmq"]["image"]
    assert "pgvector" in services["postgres"]["image"]
    assert "pg16" in services["postgres"]["image"]


def test_long_running_services_have_health_checks_and_wait_for_healthy_dependencies() -> None:
    services = compose_file()["services"]
    for name in LONG_RUNNING:
        assert "healthcheck" in services[name], name
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            if dependency == "migrate":
                assert condition == {"condition": "service_completed_successfully"}, name
            else:
                assert condition == {"condition": "service_healthy"}, (name, dependency)
    assert "migrate" in services["api"]["depends_on"]
    assert "migrate" in services["executor"]["depends_on"]


def test_secrets_come_from_files_never_from_the_compose_file() -> None:
    compose = compose_file()
    declared = compose["secrets"]
    for name, service in compose["services"].items():
        for secret in service.get("secrets", []):
            source = secret["source"] if isinstance(secret, dict) else secret
            assert source in declared, (name, source)
        for variable, value in (service.get("environment") or {}).items():
            text = str(value)
            if re.search(r"PASSWORD$|TOKEN$|SECRET_KEY$|DATABASE_URL$|BROKER_URL$", variable):
                assert variable.endswith("_FILE"), (name, variable)
                assert text.startswith("/run/secrets/"), (name, variable)
            assert "@" not in text.partition("://")[2].split("/")[0], (name, variable)  # no user:password@
    assert all(set(secret) == {"file"} for secret in declared.values())


def test_make_secrets_makes_every_secret_file_and_keeps_existing_ones(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed by make-secrets.sh")
    copy = tmp_path / "compose"
    shutil.copytree(COMPOSE, copy, ignore=shutil.ignore_patterns("secrets", ".env"))
    run = [str(copy / "make-secrets.sh")]
    subprocess.run(run, check=True, capture_output=True, timeout=60, env={"PATH": os.environ["PATH"]})
    files = {secret["file"] for secret in compose_file()["secrets"].values()}
    files |= set(compose_file()["services"]["keycloak"]["env_file"])
    for file in files:
        assert (copy / file).read_text().strip(), file
    before = {path.name: path.read_text() for path in (copy / "secrets").iterdir()}
    subprocess.run(run, check=True, capture_output=True, timeout=60, env={"PATH": os.environ["PATH"]})
    assert {path.name: path.read_text() for path in (copy / "secrets").iterdir()} == before
    secrets = copy / "secrets"
    svc_password = (secrets / "orchestra_svc_password").read_text()
    assert (secrets / "database_url").read_text() == (
        f"postgresql://orchestra_svc:{svc_password}@postgres:5432/orchestra"
    )
    assert (
        f"default_pass = {(secrets / 'rabbitmq_password').read_text()}"
        in (secrets / "rabbitmq.conf").read_text()
    )


def test_mounted_files_exist_and_secrets_are_not_committed() -> None:
    compose = compose_file()
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE / source).exists(), source
    assert "secrets/" in (COMPOSE / ".gitignore").read_text().split()


def test_kubernetes_in_cluster_overlay_initialises_postgres_with_the_same_script() -> None:
    script = (COMPOSE / "postgres" / "init-orchestra.sh").read_text()
    assert (DEPLOY / "kubernetes" / "overlays" / "in-cluster" / "init-orchestra.sh").read_text() == script
    realm = (DEPLOY / "keycloak" / "orchestra-realm.json").read_text()
    assert (DEPLOY / "kubernetes" / "overlays" / "in-cluster" / "orchestra-realm.json").read_text() == realm


def test_the_monitoring_profile_scrapes_every_service_with_the_alerts_and_the_dashboard_loaded() -> None:
    compose = compose_file()
    services = compose["services"]
    prometheus = yaml.safe_load((COMPOSE / "prometheus" / "prometheus.yml").read_text())
    scraped = {
        (name, config["port"])
        for job in prometheus["scrape_configs"]
        for config in job["dns_sd_configs"]
        for name in config["names"]
    }
    assert scraped == {("api", 8000), ("executor", 8001), ("ai", 8002)}
    assert {name for name, _ in scraped} <= set(services)
    for job in prometheus["scrape_configs"]:
        assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    assert "metrics_token" in services["prometheus"]["secrets"]
    mounts = dict(volume.split(":")[:2] for volume in services["prometheus"]["volumes"])
    assert mounts["../grafana/orchestra-alerts.yaml"] in prometheus["rule_files"]
    mounts = dict(volume.split(":")[:2] for volume in services["grafana"]["volumes"])
    dashboards = yaml.safe_load((COMPOSE / "grafana" / "dashboards.yaml").read_text())
    folder = dashboards["providers"][0]["options"]["path"]
    assert mounts["../grafana/orchestra-dashboard.json"].startswith(folder + "/")


def test_every_file_a_service_reads_a_setting_from_is_mounted_and_the_ai_service_gets_no_database() -> None:
    services = compose_file()["services"]
    for name, service in services.items():
        given = service.get("secrets", [])
        mounted = {secret if isinstance(secret, str) else secret["source"] for secret in given}
        for variable, value in (service.get("environment") or {}).items():
            if variable.endswith("_FILE") and str(value).startswith("/run/secrets/"):
                # the entry point stops a container whose named file cannot be read
                assert str(value).removeprefix("/run/secrets/") in mounted, (name, variable)
    assert services["ai"]["secrets"] == ["metrics_token"]
