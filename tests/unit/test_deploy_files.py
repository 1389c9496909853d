"""The deployment files: docker-compose.yml's topology and the Dockerfile's rules.

`docker compose config` needs the compose plugin, which is not on every machine: where it
is, the file must validate; everywhere, its structure is checked here with PyYAML.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.world import ROOT

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
NGINX = ROOT / "deploy" / "nginx.conf"


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(COMPOSE.read_text())  # resolves the `<<: *bot` merges
    return dict(document["services"])


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return command.split() if isinstance(command, str) else list(command)


def _needs_done(service: dict[str, Any], other: str, condition: str) -> bool:
    depends = service.get("depends_on") or {}
    return isinstance(depends, dict) and (depends.get(other) or {}).get("condition") == condition


def _compose_command() -> list[str] | None:
    """`docker compose` (the plugin) or the standalone `docker-compose`, if either runs."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"],
                                 capture_output=True).returncode == 0:
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    if standalone and subprocess.run([standalone, "version"],
                                     capture_output=True).returncode == 0:
        return [standalone]
    return None


def test_compose_validates_where_compose_exists(tmp_path: Path) -> None:
    compose = _compose_command()
    if compose is None:
        pytest.skip("no `docker compose` here; the structure is checked by the tests below")
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-placeholder\n")  # env_file: .env
    result = subprocess.run([*compose, "-f", str(tmp_path / "docker-compose.yml"), "config",
                             "--quiet"], capture_output=True, text=True, cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin:/usr/local/bin"})
    assert result.returncode == 0, result.stderr


def test_compose_has_exactly_the_expected_services(services: dict[str, Any]) -> None:
    assert set(services) == {"db", "migrate", "web", "scheduler", "proxy"}


def test_database_is_postgresql_with_a_health_check_and_a_volume(
        services: dict[str, Any]) -> None:
    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])


def test_migrations_run_once_before_web_and_scheduler_start(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert _command(migrate) == ["impactbot", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert _needs_done(migrate, "db", "service_healthy")
    for name in ("web", "scheduler"):
        assert _needs_done(services[name], "migrate", "service_completed_successfully"), name


def test_every_bot_service_uses_postgresql_over_http(services: dict[str, Any]) -> None:
    for name in ("migrate", "web", "scheduler"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgresql+psycopg://"), name
        assert environment["SLACK_APP_TOKEN"] == "", name  # HTTP, not Socket Mode


def test_web_scales_and_reports_health_on_healthz(services: dict[str, Any]) -> None:
    web = services["web"]
    assert _command(web) == ["impactbot", "serve"]
    assert "container_name" not in web  # a fixed name would stop `--scale web=N`
    assert "ports" not in web  # only the proxy publishes a port
    assert "3000" in [str(p) for p in web["expose"]]
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    assert int(web["environment"]["WEB_CONCURRENCY"]) >= 1


def test_exactly_one_scheduler_with_its_own_health_check(services: dict[str, Any]) -> None:
    scheduler = services["scheduler"]
    assert _command(scheduler) == ["impactbot", "scheduler"]
    assert scheduler["deploy"]["replicas"] == 1
    assert "ports" not in scheduler and "expose" not in scheduler
    # It serves no HTTP, so the image's /healthz check must be replaced, not inherited.
    assert "/healthz" not in " ".join(scheduler["healthcheck"]["test"])
    assert [name for name, s in services.items() if _command_of(s) == "scheduler"] == \
        ["scheduler"]


def _command_of(service: dict[str, Any]) -> str | None:
    command = service.get("command")
    return _command(service)[1] if command and _command(service)[0] == "impactbot" else None


def test_proxy_publishes_one_port_and_balances_over_every_web_container(
        services: dict[str, Any]) -> None:
    proxy = services["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert any(v.startswith("./deploy/nginx.conf:") for v in proxy["volumes"])
    assert _needs_done(proxy, "web", "service_healthy")
    config = NGINX.read_text()
    upstream = re.search(r"upstream\s+(\w+)\s*\{([^}]*)\}", config)
    assert upstream is not None
    assert re.search(r"server\s+web:3000\b", upstream.group(2))
    assert f"proxy_pass http://{upstream.group(1)};" in config
    assert "resolver 127.0.0.11" in config  # Docker's DNS: new web containers are found


# --- Dockerfile (issue 2, item 11) -------------------------------------------------------------


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def _index(instructions: list[tuple[str, str]], word: str, pattern: str = "") -> int:
    for n, (w, rest) in enumerate(instructions):
        if w == word and re.search(pattern, rest):
            return n
    raise AssertionError(f"no {word} matching {pattern!r}")


def test_dockerfile_uses_a_slim_python_base(instructions: list[tuple[str, str]]) -> None:
    bases = [rest for word, rest in instructions if word == "FROM"]
    assert bases and all(re.match(r"python:3\.\d+-slim", b) for b in bases), bases


def test_dockerfile_runs_as_a_non_root_user(instructions: list[tuple[str, str]]) -> None:
    users = [rest for word, rest in instructions if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    user_at = _index(instructions, "USER")
    assert user_at > _index(instructions, "RUN", r"useradd")


def test_dockerfile_installs_dependencies_before_copying_the_code(
        instructions: list[tuple[str, str]]) -> None:
    manifest = _index(instructions, "COPY", r"pyproject\.toml")
    deps = _index(instructions, "RUN", r"pip install")
    first_code = min(_index(instructions, "COPY", rf"^{package}\b")
                     for package in ("bot", "handlers", "storage"))
    assert manifest < deps < first_code
    sources_before = [source for word, rest in instructions[:deps] if word == "COPY"
                      for source in rest.split()[:-1]]
    assert not {".", "bot", "handlers", "storage"} & {s.rstrip("/") or "/" for s in
                                                      sources_before}, sources_before


def test_dockerfile_checks_health_on_healthz(instructions: list[tuple[str, str]]) -> None:
    (check,) = [rest for word, rest in instructions if word == "HEALTHCHECK"]
    assert "/healthz" in check and "CMD" in check


def test_dockerfile_keeps_sqlite_under_a_data_volume(instructions: list[tuple[str, str]]
                                                     ) -> None:
    env = " ".join(rest for word, rest in instructions if word == "ENV")
    assert "DATABASE_URL=sqlite:////data/" in env
    volumes = " ".join(rest for word, rest in instructions if word == "VOLUME")
    assert "/data" in volumes


def test_dockerfile_runs_impactbot_run_by_default(instructions: list[tuple[str, str]]) -> None:
    (*_, (word, rest)) = [i for i in instructions if i[0] in ("CMD", "ENTRYPOINT")]
    assert (word, yaml.safe_load(rest)) == ("CMD", ["impactbot", "run"])
