"""Deployment artifacts: docker-compose.yml, the Dockerfiles and the Kubernetes overlays.

Everything runs offline with pinned tools: check-jsonschema and hadolint from the venv
(pyproject.toml, dev extra), kustomize and kubeconform from .tools/bin
(scripts/install/deploy_tools.sh), the core Kubernetes JSON schemas from the
kubernetes-validate wheel and the CRD schemas committed in deploy/k8s/schemas/.
No image is built and nothing is started here.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import render
from deploy.k8s import render_rules
from scripts.devstack.config import StackConfig
from scripts.devstack.supervisor import programs

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
TOOLS = ROOT / ".tools" / "bin"
COMPOSE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "production")
DOCKERFILES = ("Dockerfile.services", "Dockerfile.models")
KUBERNETES_VERSION = "1.33.0"
"""Kubernetes API the manifests are validated against (schemas from kubernetes-validate)."""
K8S_SERVICE_OF = {
    "fir": "fir",
    "inference": "inference-proxy",
    "cache": "cache",
    "jobs": "jobs",
    "jobs-worker": "jobs-worker",
}
"""Local-stack program -> Kubernetes Deployment."""
CORE_SCHEMA = (
    "{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
)
CRD_SCHEMA = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"
"""kubeconform -schema-location templates: core kinds, then the committed CRD schemas."""


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def modules_of(command: list[str] | str) -> list[str]:
    """Every ``-m <module>`` of a command line (list, or a string such as ``sh -c``'s)."""
    words = command.split() if isinstance(command, str) else [w for part in command for w in part.split()]
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word == "-m"]


IMAGE_OF_MODULE = {
    "afirgen_fir": "fir",
    "afirgen_fir.entrypoints.legal_import": "fir",
    "afirgen_inference": "inference",
    "afirgen_cache": "cache",
    "afirgen_jobs": "jobs",
    "afirgen_jobs.worker": "jobs",
}
"""Module -> the service image (pyproject.toml extra, requirements/<image>.txt) that runs it;
the migrations (afirgen_runtime.migrate) run from the image of the schema's owner."""


def module_of(command: list[str] | str) -> str | None:
    """The ``-m <module>`` of a command line (list or string), if any."""
    words = command.split() if isinstance(command, str) else command
    return words[words.index("-m") + 1] if "-m" in words else None


@functools.cache
def stack_modules() -> dict[str, str]:
    """Python module of every program of the local stack (scripts/devstack), one per service
    (its first replica: compose and Kubernetes run replicas of one service definition)."""
    found = {
        p.name: module_of(p.command) for p in programs(StackConfig(run_dir=ROOT / ".run" / "stack")) if p.replica == 1
    }
    return {name: module for name, module in found.items() if module}


@functools.cache
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


@functools.cache
def kustomize_build(overlay: str) -> subprocess.CompletedProcess[str]:
    return run(TOOLS / "kustomize", "build", K8S / "overlays" / overlay)


def manifests(overlay: str) -> list[dict[str, Any]]:
    built = kustomize_build(overlay)
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def of_kind(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in manifests(overlay) if doc["kind"] == kind}


@pytest.fixture(scope="session")
def core_schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Kubernetes JSON schemas laid out as kubeconform reads them, from the kubernetes-validate
    wheel: its files point at ``/api/_definitions.json`` under a kubernetes.io ``$id``; here
    they point at the file beside them, so nothing is fetched."""
    spec = importlib.util.find_spec("kubernetes_validate")
    assert spec is not None and spec.submodule_search_locations, "kubernetes-validate is not installed"
    source = Path(spec.submodule_search_locations[0]) / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}-local-strict"
    target = tmp_path_factory.mktemp("k8s-schemas") / f"v{KUBERNETES_VERSION}-standalone-strict"
    target.mkdir()
    for path in source.glob("*.json"):
        schema = json.loads(path.read_text().replace('"/api/_definitions.json#', '"_definitions.json#'))
        schema.pop("$id", None)
        (target / path.name).write_text(json.dumps(schema))
    return target.parent


# ---------------------------------------------------------------- docker-compose.yml


def test_compose_file_follows_the_compose_spec() -> None:
    checked = run(VENV_BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_compose_runs_each_service_with_the_module_the_local_stack_runs() -> None:
    services = compose()["services"]
    ran = {name: module_of(services[name]["command"]) if name in services else None for name in stack_modules()}
    assert ran == stack_modules()


def test_compose_publishes_only_the_edge_beyond_loopback() -> None:
    exposed = {
        name: port
        for name, service in compose()["services"].items()
        for port in service.get("ports", [])
        if not str(port).startswith("127.0.0.1:")
    }
    assert exposed == {"edge": "8080:8080"}


def test_every_long_running_compose_service_has_a_healthcheck() -> None:
    services = compose()["services"]
    unchecked = [name for name, s in services.items() if "test" not in s.get("healthcheck", {}) and name != "migrate"]
    assert unchecked == []


def test_every_compose_dependency_waits_for_health_or_completion() -> None:
    conditions = {
        dep.get("condition")
        for service in compose()["services"].values()
        for dep in (service.get("depends_on") or {}).values()
    }
    assert conditions == {"service_healthy", "service_completed_successfully"}


def test_every_compose_secret_is_listed_in_the_env_example() -> None:
    used = set(re.findall(r"\$\{([A-Z_]+):\?", COMPOSE.read_text()))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / "deploy" / "compose" / ".env.example").read_text(), re.M))
    assert used == listed


def python_services() -> dict[str, dict[str, Any]]:
    """Compose services built from deploy/docker/Dockerfile.services."""
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("build", {}).get("dockerfile") == "deploy/docker/Dockerfile.services"
    }


def test_compose_builds_each_python_service_image_from_its_own_lock() -> None:
    built = {
        name: (service["image"], service["build"]["args"]["SERVICE"]) for name, service in python_services().items()
    }
    expected = {
        name: (f"afirgen/{arg}:0.1.0", arg)
        for name, (_, arg) in built.items()
        if (ROOT / "requirements" / f"{arg}.txt").is_file()
    }
    assert built == expected and len(built) == 6


def test_compose_runs_each_python_module_in_the_image_of_its_service() -> None:
    misplaced = {
        (name, module)
        for name, service in python_services().items()
        for module in modules_of(service["command"])
        if module in IMAGE_OF_MODULE and service["build"]["args"]["SERVICE"] != IMAGE_OF_MODULE[module]
    }
    assert misplaced == set()


# ---------------------------------------------------------------- Dockerfiles


def test_services_dockerfile_installs_the_lock_of_its_service_argument_by_hash() -> None:
    dockerfile = (ROOT / "deploy" / "docker" / "Dockerfile.services").read_text()
    assert "COPY requirements/${SERVICE}.txt" in dockerfile and "--require-hashes" in dockerfile


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_dockerfile_passes_hadolint(dockerfile: str) -> None:
    linted = run(VENV_BIN / "hadolint", ROOT / "deploy" / "docker" / dockerfile)
    assert linted.returncode == 0 and linted.stdout == "", linted.stdout + linted.stderr


# ---------------------------------------------------------------- generated files


def test_prometheus_rule_equals_the_one_rendered_from_the_alert_rules() -> None:
    assert render_rules.OUTPUT.read_text() == render_rules.render()


def test_generated_deploy_files_are_current() -> None:
    assert render.stale() == []


@pytest.mark.parametrize("edge", render.EDGES, ids=lambda e: str(e.output.relative_to(ROOT)))
def test_rendered_envoy_config_is_valid(edge: render.Edge, tmp_path: Path) -> None:
    config = tmp_path / "envoy.yaml"
    rendered = render.render_edge(edge).replace(render.DESCRIPTOR_IN_CONTAINER, str(render.DESCRIPTOR))
    config.write_text(rendered.replace(render.OPENAPI_IN_CONTAINER, str(render.OPENAPI)))
    validated = run(VENV_BIN / "envoy", "--mode", "validate", "-c", config, "--log-level", "warn")
    assert validated.returncode == 0, validated.stdout + validated.stderr


# ---------------------------------------------------------------- Kubernetes


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_builds(overlay: str) -> None:
    built = kustomize_build(overlay)
    assert built.returncode == 0, built.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_is_valid_against_the_kubernetes_and_crd_schemas(
    overlay: str, core_schemas: Path, tmp_path: Path
) -> None:
    rendered = tmp_path / f"{overlay}.yaml"
    rendered.write_text(kustomize_build(overlay).stdout)
    validated = run(
        TOOLS / "kubeconform",
        "-strict",
        "-summary",
        "-kubernetes-version",
        KUBERNETES_VERSION,
        "-schema-location",
        f"{core_schemas}/{CORE_SCHEMA}",
        "-schema-location",
        f"{K8S}/schemas/{CRD_SCHEMA}",
        rendered,
    )
    assert validated.returncode == 0 and "Skipped: 0" in validated.stdout, validated.stdout + validated.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_k8s_runs_each_service_with_the_module_the_local_stack_runs(overlay: str) -> None:
    deployments = of_kind(overlay, "Deployment")
    ran = {
        program: module_of(deployments[name]["spec"]["template"]["spec"]["containers"][0]["command"])
        for program, name in K8S_SERVICE_OF.items()
    }
    assert ran == stack_modules()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_k8s_runs_each_python_module_in_the_image_of_its_service(overlay: str) -> None:
    misplaced = {
        (name, c["name"], c["image"])
        for name, d in of_kind(overlay, "Deployment").items()
        for c in [
            *d["spec"]["template"]["spec"].get("initContainers", []),
            *d["spec"]["template"]["spec"]["containers"],
        ]
        for module in modules_of(c.get("command", []))
        if module in IMAGE_OF_MODULE and not re.search(rf"afirgen/{IMAGE_OF_MODULE[module]}[:@]", c["image"])
    }
    assert misplaced == set()


def test_grpc_services_have_native_grpc_readiness_and_liveness_probes() -> None:
    probed = {
        name: ("grpc" in c["readinessProbe"], "grpc" in c["livenessProbe"])
        for name, d in of_kind("production", "Deployment").items()
        for c in d["spec"]["template"]["spec"]["containers"]
        if any(p["name"] == "grpc" for p in c.get("ports", []))
    }
    assert probed == {name: (True, True) for name in ("fir", "inference-proxy", "cache", "jobs")}


def test_every_container_runs_as_non_root_without_privilege_escalation() -> None:
    loose = [
        f"{name}/{c['name']}"
        for name, d in of_kind("production", "Deployment").items()
        for c in [
            *d["spec"]["template"]["spec"].get("initContainers", []),
            *d["spec"]["template"]["spec"]["containers"],
        ]
        if not d["spec"]["template"]["spec"]["securityContext"].get("runAsNonRoot")
        or c["securityContext"].get("allowPrivilegeEscalation") is not False
        or c["securityContext"]["capabilities"]["drop"] != ["ALL"]
    ]
    assert loose == []


def test_edge_routes_to_kubernetes_service_names() -> None:
    services = set(of_kind("production", "Service"))
    envoy = yaml.safe_load((K8S / "base" / "edge" / "envoy.yaml").read_text())
    upstreams = {
        endpoint["endpoint"]["address"]["socket_address"]["address"]
        for cluster in envoy["static_resources"]["clusters"]
        for group in cluster["load_assignment"]["endpoints"]
        for endpoint in group["lb_endpoints"]
        if not endpoint["endpoint"]["address"]["socket_address"]["address"].endswith(".svc")  # the OTLP collector
    }
    assert upstreams == {"fir", "jobs", "inference-proxy", "cache", "keycloak"} and upstreams <= services


def test_only_the_edge_takes_traffic_from_any_source() -> None:
    open_to_all = {
        name
        for name, policy in of_kind("production", "NetworkPolicy").items()
        for rule in policy["spec"].get("ingress", [])
        if "from" not in rule
    }
    assert open_to_all == {"edge"}


def test_every_pod_starts_from_a_default_deny_policy() -> None:
    deny = of_kind("production", "NetworkPolicy")["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_no_secret_values_are_committed() -> None:
    kinds = {doc["kind"] for overlay in OVERLAYS for doc in manifests(overlay)}
    assert "Secret" not in kinds


def secret_refs(node: object) -> set[tuple[str, str]]:
    """(Secret, key) of every secretKeyRef, *SecretKeyRef and redisSecret below ``node``."""
    found: set[tuple[str, str]] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if (key == "secretKeyRef" or key.endswith("SecretKeyRef") or key == "redisSecret") and "key" in value:
                found.add((value["name"], value["key"]))
            else:
                found |= secret_refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= secret_refs(item)
    return found


def test_every_referenced_secret_is_documented() -> None:
    refs = secret_refs([manifests(overlay) for overlay in OVERLAYS])
    readme = (ROOT / "deploy" / "README.md").read_text()
    undocumented = sorted(
        f"{name}/{key}" for name, key in refs if f"`{name}`" not in readme or f"`{key}`" not in readme
    )
    assert refs and undocumented == []


def test_every_metrics_port_has_a_service_monitor() -> None:
    services = of_kind("production", "Service")
    monitored = {
        (service, endpoint["port"])
        for monitor in of_kind("production", "ServiceMonitor").values()
        for service, s in services.items()
        if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
        for endpoint in monitor["spec"]["endpoints"]
    }
    metrics = {
        (name, p["name"])
        for name, s in services.items()
        for p in s["spec"]["ports"]
        if p["name"] in ("metrics", "admin")
    }
    assert metrics <= monitored


def test_the_required_workloads_autoscale() -> None:
    targets = {
        hpa["spec"]["scaleTargetRef"]["name"] for hpa in of_kind("production", "HorizontalPodAutoscaler").values()
    }
    assert targets == {"fir", "inference-proxy", "jobs-worker", "llm"}


def test_production_disruption_budgets_keep_a_minimum_available() -> None:
    budgets = of_kind("production", "PodDisruptionBudget").values()
    assert all("minAvailable" in b["spec"] and "maxUnavailable" not in b["spec"] for b in budgets)


def test_production_mariadb_replicates_across_three_instances() -> None:
    spec = of_kind("production", "MariaDB")["mariadb"]["spec"]
    assert (spec["replicas"], spec["replication"]["enabled"]) == (3, True)


def test_production_images_are_pinned_by_digest() -> None:
    images = {
        c["image"]
        for d in of_kind("production", "Deployment").values()
        for c in [
            *d["spec"]["template"]["spec"].get("initContainers", []),
            *d["spec"]["template"]["spec"]["containers"],
        ]
        if "afirgen/" in c["image"]
    }
    assert images and all(re.search(r"@sha256:[0-9a-f]{64}$", image) for image in images)
