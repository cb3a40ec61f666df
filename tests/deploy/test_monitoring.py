"""deploy/grafana: the dashboard's queries and the alert rules parse as PromQL, and every metric and label
they name is one the code exports (orchestra.kit.metrics and the client's process metrics), so a renamed
metric cannot leave a silent panel or an alert that never fires. The dashboard shows every Orchestra
metric, and the alerts the operators asked for exist."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY

from orchestra.kit import metrics
from tests.deploy.tools import DEPLOY

GRAFANA = DEPLOY / "grafana"
TARGET_LABELS = {"job", "instance"}  # added by Prometheus to every scraped series
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$job": ".+"}
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def exported_series() -> dict[str, set[str]]:
    """Every series name this process's registry exports, with the labels it carries."""
    series: dict[str, set[str]] = {}
    for value in vars(metrics).values():
        if not hasattr(value, "describe") or not hasattr(value, "_labelnames"):
            continue
        labels = set(value._labelnames)
        for family in value.describe():
            for suffix in SUFFIXES[family.type]:
                series[family.name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    for family in REGISTRY.collect():  # the client's own: process_*, python_*, with their labels
        for sample in family.samples:
            if not sample.name.startswith("orchestra_"):
                series.setdefault(sample.name, set()).update(sample.labels)
    return series


@dataclass
class Query:
    where: str
    expr: str


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GRAFANA / "orchestra-dashboard.json").read_text())
    return loaded


def alert_rules() -> list[dict[str, Any]]:
    rules = yaml.safe_load((GRAFANA / "orchestra-alerts.yaml").read_text())
    return [rule for group in rules["groups"] for rule in group["rules"]]


def queries() -> list[Query]:
    found = [
        Query(f"panel {panel['title']!r}", target["expr"])
        for panel in dashboard()["panels"]
        for target in panel.get("targets", [])
    ]
    found += [Query(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules()]
    return found


def problems_of(expr: str, series: dict[str, set[str]]) -> list[str]:
    """What in ``expr`` the code does not export: unknown metrics, and labels a metric does not carry
    (in a selector's matchers or an aggregation's ``by``)."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    try:
        parsed = promql_parser.parse(expr)
    except (ValueError, RuntimeError) as error:
        return [f"does not parse: {error}"]
    problems: list[str] = []

    def selectors(node: Any) -> list[Any]:
        below: list[Any] = []

        def keep(item: Any) -> bool:
            if isinstance(item, promql_parser.VectorSelector):
                below.append(item)
            return True

        promql_parser.walk(node, keep)
        return below

    def check(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name not in series:
                problems.append(f"unknown metric {node.name}")
                return True
            for matcher in node.matchers.matchers:
                if matcher.name not in series[node.name] | TARGET_LABELS:
                    problems.append(f"{node.name} has no label {matcher.name}")
        if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            carried = set(TARGET_LABELS)
            for selector in selectors(node.expr):
                carried |= series.get(selector.name, set())
            problems.extend(
                f"no metric below carries {label}" for label in node.modifier.labels if label not in carried
            )
        return True

    promql_parser.walk(parsed, check)
    return problems


@pytest.mark.parametrize("query", queries(), ids=lambda query: query.where)
def test_query_names_only_exported_metrics_and_labels(query: Query) -> None:
    assert problems_of(query.expr, exported_series()) == []


def test_the_check_catches_a_renamed_metric_a_missing_label_and_bad_syntax() -> None:
    series = exported_series()
    assert problems_of("rate(orchestra_runs_total[5m])", series) == ["unknown metric orchestra_runs_total"]
    assert problems_of('orchestra_executor_slots_free{environment="x"}', series) == [
        "orchestra_executor_slots_free has no label environment"
    ]
    assert problems_of("sum by (project) (orchestra_runs_waiting)", series) == [
        "no metric below carries project"
    ]
    assert problems_of("sum(rate(orchestra_runs_finished_total[5m]", series)[0].startswith("does not parse")


def test_the_dashboard_shows_every_orchestra_metric() -> None:
    shown = {
        name for query in queries() if query.where.startswith("panel") for name in metric_names(query.expr)
    }
    families = {
        family.name
        for value in vars(metrics).values()
        if hasattr(value, "describe") and hasattr(value, "_labelnames")
        for family in value.describe()
    }
    missing = [family for family in sorted(families) if not any(name.startswith(family) for name in shown)]
    assert missing == []


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\b(orchestra_[a-z_]+)", expr))


def test_dashboard_panels_have_unique_ids_and_use_the_datasource_variable() -> None:
    panels = dashboard()["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]


def test_the_alerts_the_operators_asked_for_exist_with_severity_and_summary() -> None:
    rules = {rule["alert"]: rule for rule in alert_rules()}
    for wanted in ("OrchestraRunsFailing", "OrchestraQueueWaitHigh", "OrchestraExecutorsAbsent",
                   "OrchestraLeasesExpiring"):  # fmt: skip
        assert wanted in rules
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in ("info", "warning", "critical"), name
        assert rule["annotations"]["summary"], name
        if "for" in rule:
            assert re.fullmatch(r"\d+[smh]", rule["for"]), name
