"""The charts the program installs: lint clean, schema-checked, and rendered manifests
valid for Kubernetes 1.30 (strict), with the hardening the policy pack and baseline ask."""

from __future__ import annotations

from pathlib import Path

import helm_python
import pytest
import yaml

from infra.k8s.apps import chart_values

PROJECT = Path(__file__).resolve().parents[2]
CHARTS = ["chain", "litigation"]


@pytest.mark.parametrize("chart", CHARTS)
def test_chart_lints_clean(chart):
    report = helm_python.lint(PROJECT / "charts" / chart, strict=True, kube_version="v1.30.0")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("chart", CHARTS)
def test_schema_rejects_values_the_model_could_never_give(chart):
    loaded = helm_python.Chart.load(PROJECT / "charts" / chart)
    with pytest.raises(helm_python.HelmError):
        loaded.validate_schema({"replicaCount": 0})
    with pytest.raises(helm_python.HelmError):
        loaded.validate_schema({"replicas": 2})  # a misspelt key


@pytest.mark.parametrize("chart", CHARTS)
def test_rendered_manifests_are_valid_and_hardened(chart, production_estate):
    import kubernetes_validate

    site = production_estate.site("primary")
    app = next(a for a in site.apps if str(a.name) == chart)
    loaded = helm_python.Chart.load(PROJECT / "charts" / chart)
    rendered = loaded.render(chart_values(site, app), name=chart, namespace=f"court-{chart}",
                             is_install=True)
    objects = [d for text in rendered.values() for d in yaml.safe_load_all(text) if d]
    for obj in objects:
        kubernetes_validate.validate(obj, "1.30.0", strict=True)
    kinds = {o["kind"]: o for o in objects}
    assert set(kinds) == {"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"}
    deployment = kinds["Deployment"]
    assert deployment["spec"]["replicas"] == app.replicas
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    container = pod["containers"][0]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["limits"]
    assert kinds["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
