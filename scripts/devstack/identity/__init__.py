"""The stack's OIDC identity provider: Keycloak 26.5.6 with the realm ``afirgen``.

``scripts/install/identity.sh`` installs and builds Keycloak into ``.tools/``;
:func:`keycloak_command` starts it (under supervisord); :class:`IdentityProvider`
gets tokens and creates officers for tests. Realm, client, roles and seeded users
are in ``afirgen-realm.json`` next to this file (see README.md there).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REALM = "afirgen"
CLIENT_ID = "afirgen-cli"
AUDIENCE = "afirgen-api"
DEV_PASSWORD = "afirgen-dev"
"""Development only: the password of every seeded user and of every user ensure_officer creates."""
ROLES = ("constable", "sub_inspector", "sho", "district_sp", "auditor", "operator")
DEFAULT_PORT = 8180
"""The port of the `make up` stack (StackConfig.idp_port)."""

VERSION = "26.5.6"
HERE = Path(__file__).resolve().parent
KEYCLOAK_HOME = HERE.parents[2] / ".tools" / f"keycloak-{VERSION}"
SCHEMA_TEMPLATE = KEYCLOAK_HOME / "afirgen-schema" / "keycloakdb.mv.db"
"""An H2 database holding Keycloak's empty schema, made by the installer."""
BUILD_OPTIONS = ("--db=dev-file",)
"""Build-time options baked in by ``kc.sh build``; must match scripts/install/identity.sh."""
H2_OPTIONS = "NON_KEYWORDS=VALUE;DB_CLOSE_ON_EXIT=FALSE;TRACE_LEVEL_FILE=0"
JAVA_OPTS = " ".join(
    [
        "-Xms64m -Xmx512m -XX:MetaspaceSize=96M -XX:MaxMetaspaceSize=256m",
        # kc.sh defaults to G1; the serial collector needs ~100 MB less RSS and no GC threads
        # competing for a small machine's cores, and a token costs no more.
        "-XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError",
        "-Dfile.encoding=UTF-8 -Djava.security.egd=file:/dev/urandom -Djdk.tls.rejectClientInitiatedRenegotiation=true",
    ]
)


def issuer(port: int) -> str:
    """The ``iss`` claim of the realm's tokens when Keycloak listens on ``port``."""
    return f"http://127.0.0.1:{port}/realms/{REALM}"


def jwks_uri(port: int) -> str:
    """Where the realm's signing keys (JWKS) are published."""
    return f"{issuer(port)}/protocol/openid-connect/certs"


def keycloak_command(run_dir: Path, port: int, admin_password: str) -> tuple[str, dict[str, str]]:
    """The command line and environment that run Keycloak in the foreground on 127.0.0.1:``port``.

    Plain HTTP on loopback only (no health or metrics endpoints, so no management port),
    the H2 database and transaction logs under ``run_dir/keycloak``, the realm imported
    from ``afirgen-realm.json`` on first start (later starts skip the existing realm),
    bootstrap admin ``admin`` / ``admin_password`` created with the master realm.
    ``--optimized`` starts the image built by the installer instead of rebuilding it.

    Creates ``run_dir/keycloak`` and, for a new stack, copies the installer's empty-schema
    database there, which saves Keycloak creating its schema on the first start.
    """
    data = run_dir / "keycloak"
    database = data / "h2" / "keycloakdb"
    database.parent.mkdir(parents=True, exist_ok=True)
    if SCHEMA_TEMPLATE.exists() and not database.with_suffix(".mv.db").exists():
        shutil.copyfile(SCHEMA_TEMPLATE, database.with_suffix(".mv.db"))
    args = [
        str(KEYCLOAK_HOME / "bin" / "kc.sh"),
        "start",
        "--optimized",
        # kc.sh passes -D arguments to the JVM. The migration dir is what --import-realm
        # would set to .tools/keycloak-*/data/import; pointing it here keeps .tools read-only.
        f"-Dkeycloak.migration.dir={HERE}",
        f"-Dquarkus.transaction-manager.object-store.directory={data / 'transaction-logs'}",
        "--http-enabled=true",
        "--http-host=127.0.0.1",
        f"--http-port={port}",
        # A fixed issuer: tokens carry the same `iss` whatever Host header fetched them.
        f"--hostname=http://127.0.0.1:{port}",
        "--cache=local",
        # NON_KEYWORDS=VALUE is what Keycloak adds to its own dev-file URL; Liquibase needs it.
        f"--db-url=jdbc:h2:file:{database};{H2_OPTIONS}",
    ]
    env = {
        "KC_BOOTSTRAP_ADMIN_USERNAME": "admin",
        "KC_BOOTSTRAP_ADMIN_PASSWORD": admin_password,
        "JAVA_OPTS": JAVA_OPTS,
    }
    return " ".join(shlex.quote(a) for a in args), env


def ready(base_url: str) -> bool:
    """True when the realm's OpenID discovery document answers 200 at ``base_url``."""
    try:
        url = f"{base_url.rstrip('/')}/realms/{REALM}/.well-known/openid-configuration"
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


class IdentityError(RuntimeError):
    """Keycloak refused a request; the message has its status and answer."""


class IdentityProvider:
    """Tokens and officers of the realm ``afirgen`` on one running Keycloak."""

    def __init__(self, base_url: str, admin_password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._admin_password = admin_password
        self._http = httpx.Client(base_url=self.base_url, timeout=30.0)
        self._admin_token = ""
        self._admin_token_expires = 0.0
        self._roles: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> IdentityProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def token(self, username: str, password: str = DEV_PASSWORD) -> str:
        """An access token of ``username`` (password grant on the public client ``afirgen-cli``)."""
        return self._password_grant(REALM, CLIENT_ID, username, password)[0]

    def ensure_officer(self, username: str, role: str, station: str = "", district: str = "") -> None:
        """Create or update ``username`` with exactly this realm role, station and district.

        The password is DEV_PASSWORD (not temporary), a brute-force lock is lifted, and an
        empty station or district leaves the attribute, and so the token claim, out.
        Usernames need at least 3 characters (the realm's user profile).
        """
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        attributes = {name: [value] for name, value in (("station", station), ("district", district)) if value}
        user = {
            "username": username,
            "enabled": True,
            "firstName": "Test",
            "lastName": "Officer",
            "attributes": attributes,
            "requiredActions": [],
        }
        password = {"type": "password", "value": DEV_PASSWORD, "temporary": False}
        users = f"/admin/realms/{REALM}/users"
        created = self._admin("POST", users, json={**user, "credentials": [password]}, ok=(201, 409))
        if created.status_code == 201:
            user_id = created.headers["location"].rsplit("/", 1)[-1]
            self._admin("POST", f"{users}/{user_id}/role-mappings/realm", json=[self._role(role)])
            return
        found = self._admin("GET", users, params={"username": username, "exact": "true"}).json()
        user_id = found[0]["id"]
        self._admin("PUT", f"{users}/{user_id}", json=user)
        self._admin("PUT", f"{users}/{user_id}/reset-password", json=password)
        self._admin("DELETE", f"/admin/realms/{REALM}/attack-detection/brute-force/users/{user_id}")
        mapped = {r["name"] for r in self._admin("GET", f"{users}/{user_id}/role-mappings/realm").json()}
        stale = [self._role(r) for r in mapped & (set(ROLES) - {role})]
        if stale:
            self._admin("DELETE", f"{users}/{user_id}/role-mappings/realm", json=stale)
        if role not in mapped:
            self._admin("POST", f"{users}/{user_id}/role-mappings/realm", json=[self._role(role)])

    def _password_grant(self, realm: str, client_id: str, username: str, password: str) -> tuple[str, float]:
        response = self._http.post(
            f"/realms/{realm}/protocol/openid-connect/token",
            data={"grant_type": "password", "client_id": client_id, "username": username, "password": password},
        )
        if response.status_code != 200:
            raise IdentityError(f"token for {username!r} in realm {realm!r}: {response.status_code} {response.text}")
        body = response.json()
        return body["access_token"], time.monotonic() + float(body["expires_in"])

    def _role(self, name: str) -> dict[str, Any]:
        if name not in self._roles:
            self._roles[name] = self._admin("GET", f"/admin/realms/{REALM}/roles/{name}").json()
        return self._roles[name]

    def _admin(self, method: str, path: str, ok: tuple[int, ...] = (200, 201, 204), **kwargs: Any) -> httpx.Response:
        # The master realm's admin tokens live 60 s: renew a little before they expire.
        if time.monotonic() > self._admin_token_expires - 10:
            self._admin_token, self._admin_token_expires = self._password_grant(
                "master", "admin-cli", "admin", self._admin_password
            )
        headers = {"authorization": f"Bearer {self._admin_token}"}
        response = self._http.request(method, path, headers=headers, **kwargs)
        if response.status_code not in ok:
            raise IdentityError(f"{method} {path}: {response.status_code} {response.text}")
        return response


def main(argv: list[str] | None = None) -> int:
    """``python -m scripts.devstack.identity token USER [--port N]``: print the user's access token."""
    parser = argparse.ArgumentParser(prog="python -m scripts.devstack.identity", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print an access token of a user (password grant)")
    token.add_argument("user", help="e.g. si.a, sho.a, sp.newdelhi, auditor, operator")
    token.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"Keycloak's port (default {DEFAULT_PORT})")
    token.add_argument("--password", default=DEV_PASSWORD, help="default: the development password")
    args = parser.parse_args(argv)

    base_url = f"http://127.0.0.1:{args.port}"
    if not ready(base_url):
        print(f"identity provider not running at {base_url} (realm {REALM}); start it with `make up`", file=sys.stderr)
        return 1
    with IdentityProvider(base_url, admin_password="") as idp:
        try:
            print(idp.token(args.user, args.password))
        except IdentityError as exc:
            print(exc, file=sys.stderr)
            return 1
    return 0
