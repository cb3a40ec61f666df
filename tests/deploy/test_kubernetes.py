"""deploy/kubernetes: every overlay renders with Kustomize (kubectl's, pinned) and validates against the
Kubernetes schemas (kubernetes-validate, strict), and the rendered objects keep the rules operators rely
on: API replicas and disruption budget, readiness, graceful executors, no secret in the manifests, who may
reach PostgreSQL."""

from __future__ import annotations

import subprocess
from functools import cache
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.tools import DEPLOY, tool

KUBERNETES = DEPLOY / "kubernetes"
OVERLAYS = sorted(path.name for path in (KUBERNETES / "overlays").iterdir() if path.is_dir())
KUBERNETES_VERSION = "1.30.0"  # the oldest release still supported by its maintainers when this was written
# Custom resources of operators the overlays name (their schemas are not Kubernetes'): checked by hand below.
CUSTOM_KINDS = {"ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PrometheusRule"}
ORCHESTRA_SERVICES = ("orchestra-api", "orchestra-executor", "orchestra-ai", "orchestra-migrate")
STEP_TIMEOUT_S = 30  # ORCHESTRA_DEFAULT_STEP_TIMEOUT_MS's default


@cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tuple(document for document in yaml.safe_load_all(result.stdout) if document)


def find(objects: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def test_the_three_overlays_exist() -> None:
    assert OVERLAYS == ["autoscaled", "external", "in-cluster"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    objects = render(overlay)
    assert objects
    for manifest in objects:
        if manifest["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        assert manifest["metadata"].get("namespace") == "orchestra", manifest["metadata"]["name"]


def test_validation_catches_a_misspelt_field() -> None:
    deployment = find(render("external"), "Deployment", "orchestra-api")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_is_written_in_the_manifests(overlay: str) -> None:
    objects = render(overlay)
    assert not [o for o in objects if o["kind"] == "Secret"]
    for manifest in objects:
        for container in pod_containers(manifest):
            for variable in container.get("env", []):
                if any(word in variable["name"] for word in ("PASSWORD", "TOKEN", "SECRET_KEY", "_URL")):
                    assert "valueFrom" in variable or variable["value"].startswith(
                        ("http", "/run/secrets/")
                    ), variable["name"]


def pod_containers(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    template = manifest.get("spec", {}).get("template", {}).get("spec")
    if manifest["kind"] not in ("Deployment", "StatefulSet", "Job") or template is None:
        return []
    return [*template.get("initContainers", []), *template["containers"]]


def test_api_runs_two_replicas_with_a_disruption_budget_readiness_and_the_migration_first() -> None:
    objects = render("external")
    api = find(objects, "Deployment", "orchestra-api")
    assert api["spec"]["replicas"] >= 2
    pod = api["spec"]["template"]["spec"]
    assert pod["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/api/v1/health/ready"
    assert [c["args"] for c in pod["initContainers"]] == [["migrate"]]
    budget = find(objects, "PodDisruptionBudget", "orchestra-api")
    assert budget["spec"]["selector"]["matchLabels"] == api["spec"]["selector"]["matchLabels"]
    assert find(objects, "Job", "orchestra-migrate")["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "migrate"
    ]


def test_executors_get_longer_than_a_step_to_hand_their_runs_back() -> None:
    executor = find(render("external"), "Deployment", "orchestra-executor")
    assert executor["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > STEP_TIMEOUT_S


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_runs_as_non_root_without_privileges(overlay: str) -> None:
    for manifest in render(overlay):
        containers = pod_containers(manifest)
        if not containers:
            continue
        assert manifest["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        for container in containers:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
            if manifest["metadata"]["name"].startswith(
                ("orchestra-api", "orchestra-executor", "orchestra-ai")
            ):
                assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_autoscaled_overlay_scales_executors_on_the_run_queue_and_is_scraped() -> None:
    objects = render("autoscaled")
    scaled = find(objects, "ScaledObject", "orchestra-executor")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] == "orchestra-executor"
    assert find(objects, "Deployment", "orchestra-executor")
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"]["queueName"] == "orchestra.runs"
    authentication = find(objects, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    assert authentication["spec"]["secretTargetRef"][0]["key"] == "broker-url"
    monitor = find(objects, "ServiceMonitor", "orchestra")
    ports = {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]}
    services = [o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] != "orchestra-web"]
    scraped = {
        p["name"] for s in services if s["metadata"]["name"] != "orchestra-web" for p in s["spec"]["ports"]
    }
    assert ports <= scraped


def test_in_cluster_postgres_is_reached_only_by_the_api_executors_and_migration() -> None:
    objects = render("in-cluster")
    assert find(objects, "StatefulSet", "orchestra-postgres")
    assert find(objects, "StatefulSet", "orchestra-rabbitmq")
    assert find(objects, "Deployment", "orchestra-keycloak")
    policy = find(objects, "NetworkPolicy", "orchestra-postgres")
    [rule] = policy["spec"]["ingress"]
    [peer] = rule["from"]
    [expression] = peer["podSelector"]["matchExpressions"]
    assert sorted(expression["values"]) == ["orchestra-api", "orchestra-executor", "orchestra-migrate"]
    config = find(objects, "ConfigMap", "orchestra")
    assert config["data"]["ORCHESTRA_OIDC_ISSUER"] == "http://orchestra-keycloak:8180/realms/orchestra"


def test_the_prometheus_rule_holds_the_alert_rules_of_deploy_grafana() -> None:
    rule = find(render("autoscaled"), "PrometheusRule", "orchestra")
    alerts = yaml.safe_load((DEPLOY / "grafana" / "orchestra-alerts.yaml").read_text())
    assert rule["spec"]["groups"] == alerts["groups"]
