"""Sign-in through an OpenID Connect provider, end to end.

A minimal provider runs in the test (the standard library's HTTP server in a thread): discovery,
an authorisation endpoint with a one-field sign-in form, a token endpoint that checks the client's
secret, the code, the redirect URI and the PKCE verifier, a JWKS and a userinfo endpoint; its ID
tokens are RS256-signed with a key made here (joserfc, the JOSE library Authlib itself verifies
with). The app runs under ``streamlit run`` from a working folder whose ``.streamlit/secrets.toml``
has an ``[auth]`` section pointing at that provider, with a user file matched on email and
``CLOSUREMAP_ROLE_CLAIM=groups``. Debian's Chromium signs in through the real redirects (Streamlit's
``/auth/login``, the provider, ``/oauth2callback``) and the test checks what the app then shows:
the user file's name and role for a known email (whatever the token's groups say), the provider's
name and the role its groups claim gives for an unknown email, nothing but a refusal without
either; and the audit trail records the signed-in name when an analyst saves an order.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from closuremap.layers.store import GeoPackageStore
from closuremap.layers.users import User, add_user
from tests.conftest import ROOT, free_port, require
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, LOCAL
from tests.test_role_matrix import EXPECTED_PAGES, PAGES, nav_titles, wait_loaded

pytestmark = pytest.mark.browser

CLIENT_ID = "closuremap-test"

#: The user file: two people known by email (with a password-less entry: they sign in through
#: the provider only).
ANALYST = User("DC Ana Lyst 2101", "analyst", email="ana.lyst@force.example")
WARD = User("Cllr Wendy Ward", "ward_member", email="w.ward@council.example")

#: Who the provider knows: email -> the claims its ID token carries besides the standard ones.
ACCOUNTS: dict[str, dict[str, Any]] = {
    # the address in another case than the file's: matched all the same
    "Ana.Lyst@Force.example": {"name": "Ana Lyst (provider)", "groups": ["staff"]},
    # the token's groups say supervisor, but the user file's entry is what counts
    "w.ward@council.example": {"name": "Wendy Ward", "groups": ["closuremap_supervisor"]},
    "pat@housing.example": {
        "name": "Pat Partner (Housing)",
        "groups": ["staff", "closuremap_partner"],
    },
    "nobody@elsewhere.example": {"name": "No Body", "groups": ["staff"]},
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Provider:
    """A minimal OpenID provider: authorisation-code flow with PKCE, RS256 ID tokens."""

    redirect_uri: str
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    pending: dict[str, dict[str, str]] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from joserfc.jwk import RSAKey

        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-1", "use": "sig"})
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.issuer = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "email", "name", "groups"],
        }

    def claims(self, email: str) -> dict[str, Any]:
        """What the provider says about ``email``: standard claims and the account's own."""
        return {
            "sub": hashlib.sha256(email.encode()).hexdigest()[:20],
            "email": email,
            "email_verified": True,
            **ACCOUNTS[email],
        }

    def id_token(self, email: str, nonce: str) -> str:
        from joserfc import jwt

        now = int(time.time())
        payload = {
            **self.claims(email),
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": nonce,
        }
        return jwt.encode({"alg": "RS256", "kid": "test-1"}, payload, self.key)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet: the test reads provider.log instead

        def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, data: object, status: int = 200) -> None:
            self._send(status, json.dumps(data).encode(), "application/json")

        def _refuse(self, why: str, status: int = 400) -> None:
            with provider.lock:
                provider.errors.append(f"{self.command} {urlsplit(self.path).path}: {why}")
            self._json({"error": "invalid_request", "error_description": why}, status)

        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            with provider.lock:
                provider.log.append(f"GET {url.path}")
            if url.path == "/.well-known/openid-configuration":
                self._json(provider.metadata())
            elif url.path == "/jwks":
                self._json(provider.jwks())
            elif url.path == "/authorize":
                self._authorize(query)
            elif url.path == "/signin":
                self._signin(query)
            elif url.path == "/userinfo":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                with provider.lock:
                    email = provider.access.get(token, {}).get("email")
                if email is None:
                    self._refuse("unknown access token", 401)
                else:
                    self._json(provider.claims(email))
            else:
                self._refuse("no such endpoint", 404)

        def _authorize(self, q: dict[str, str]) -> None:
            """Check the request and show the sign-in form (one field: the email)."""
            if q.get("client_id") != CLIENT_ID:
                return self._refuse("unknown client_id")
            if q.get("redirect_uri") != provider.redirect_uri:
                return self._refuse(f"redirect_uri {q.get('redirect_uri')} is not registered")
            if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
                return self._refuse("expected response_type=code and the openid scope")
            missing = [k for k in ("state", "nonce", "code_challenge") if not q.get(k)]
            if missing or q.get("code_challenge_method") != "S256":
                return self._refuse(f"missing {missing} or PKCE is not S256")
            request_id = secrets.token_urlsafe(12)
            with provider.lock:
                provider.pending[request_id] = q
            page = (
                "<!doctype html><title>Test provider</title><h1>Test provider</h1>"
                '<form method="get" action="/signin">'
                f'<input type="hidden" name="request" value="{html.escape(request_id)}">'
                '<label>Email <input name="email" type="text"></label>'
                '<button type="submit">Continue</button></form>'
            )
            self._send(200, page.encode(), "text/html; charset=utf-8")

        def _signin(self, q: dict[str, str]) -> None:
            """The form's answer: a code, and back to the client with its state."""
            with provider.lock:
                request = provider.pending.pop(q.get("request", ""), None)
            email = q.get("email", "")
            if request is None or email not in ACCOUNTS:
                return self._refuse("unknown request or account")
            code = secrets.token_urlsafe(16)
            with provider.lock:
                provider.codes[code] = {"email": email, **request}
            target = f"{request['redirect_uri']}?" + urlencode(
                {"code": code, "state": request["state"]}
            )
            self._send(302, b"", "text/plain", {"Location": target})

        def do_POST(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            with provider.lock:
                provider.log.append(f"POST {url.path}")
            if url.path != "/token":
                return self._refuse("no such endpoint", 404)
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            basic = self.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                cid, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            else:
                cid, secret = form.get("client_id", ""), form.get("client_secret", "")
            if cid != CLIENT_ID or secret != provider.client_secret:
                return self._refuse("client authentication failed", 401)
            with provider.lock:
                grant = provider.codes.pop(form.get("code", ""), None)  # a code works once
            if form.get("grant_type") != "authorization_code" or grant is None:
                return self._refuse("unknown or used code")
            if form.get("redirect_uri") != grant["redirect_uri"]:
                return self._refuse("redirect_uri differs from the authorisation request's")
            verifier = form.get("code_verifier", "")
            if _b64url(hashlib.sha256(verifier.encode()).digest()) != grant["code_challenge"]:
                return self._refuse("PKCE verifier does not match the challenge")
            access_token = secrets.token_urlsafe(24)
            with provider.lock:
                provider.access[access_token] = {"email": grant["email"]}
            self._json(
                {
                    "access_token": access_token,
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": provider.id_token(grant["email"], grant["nonce"]),
                }
            )

    return Handler


@pytest.fixture(scope="module")
def app(
    tmp_path_factory: pytest.TempPathFactory, sample_path: Path
) -> Iterator[tuple[str, Provider, Path]]:
    """The app behind the provider: (its URL, the provider, its workspace)."""
    try:  # what st.login runs on: without it the app's sign-in button ends in a server error
        from authlib.integrations import starlette_client  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"st.login needs Authlib's Starlette client and its HTTP client: {exc}")
    base = tmp_path_factory.mktemp("oidc")
    workspace = base / "sample.gpkg"
    shutil.copy(sample_path, workspace)
    users = base / "users.toml"
    for user in (ANALYST, WARD):
        add_user(users, user)
    port = free_port()
    url = f"http://localhost:{port}"
    provider = Provider(redirect_uri=f"{url}/oauth2callback")
    provider.start()
    # the deployment's working folder: the app's config and the [auth] secrets, as Streamlit finds
    # them (.streamlit/ of the folder it is started from)
    cwd = base / "deploy"
    (cwd / ".streamlit").mkdir(parents=True)
    shutil.copy(ROOT / ".streamlit" / "config.toml", cwd / ".streamlit" / "config.toml")
    (cwd / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{provider.redirect_uri}"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{provider.client_secret}"\n'
        f'server_metadata_url = "{provider.issuer}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "CLOSUREMAP_WORKSPACE": str(workspace),
        "CLOSUREMAP_USERS": str(users),
        "CLOSUREMAP_ROLE_CLAIM": "groups",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    env.pop("CLOSUREMAP_USER", None)
    log_path = base / "streamlit.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
            ],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(f"streamlit did not start: {log_path.read_text()}")
        yield url, provider, workspace
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        provider.stop()
    out = log_path.read_text()
    assert provider.client_secret not in out  # the server's log never holds the secret
    assert provider.errors == [], provider.errors


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require(Path(CHROMIUM).exists(), "Debian chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object) -> Iterator[tuple[object, list[str]]]:
    """A fresh browser (no cookies) that may reach only this machine."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    left: list[str] = []

    def only_localhost(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if url.startswith(LOCAL):
            route.continue_()  # type: ignore[attr-defined]
        else:
            left.append(url)
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", only_localhost)
    pg = context.new_page()
    yield pg, left
    context.close()


def sign_in_with_provider(pg: Any, url: str, provider: Provider, email: str) -> None:
    """The whole round trip: the app's button, the provider's form, back to the app."""
    pg.goto(url)
    pg.get_by_text("Sign in to closuremap").wait_for(timeout=60_000)
    assert pg.locator("input[type='password']").count() == 0  # the provider asks, not the app
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_url(lambda u: u.startswith(f"{provider.issuer}/authorize?"), timeout=30_000)
    query = parse_qs(urlsplit(pg.url).query)
    assert query["client_id"] == [CLIENT_ID] and query["code_challenge_method"] == ["S256"]
    pg.get_by_label("Email").fill(email)
    pg.get_by_role("button", name="Continue").click()
    # the callback sets the identity cookie and sends the browser on to the app
    pg.wait_for_url(lambda u: u.startswith(url) and "oauth2callback" not in u, timeout=30_000)


def test_a_ward_member_by_email_sees_only_the_briefing(app: tuple, page: tuple) -> None:
    url, provider, _ = app
    pg, left = page
    sign_in_with_provider(pg, url, provider, "w.ward@council.example")
    # the user file's name and role, not the provider's name nor the groups claim (supervisor)
    pg.get_by_text(f"Signed in as {WARD.name} (ward member)").wait_for(timeout=60_000)
    wait_loaded(pg, "Ward briefing")
    assert (nav_titles(pg) or {"Ward briefing"}) == EXPECTED_PAGES["ward_member"]
    assert "supervisor" not in pg.locator("[data-testid='stSidebar']").inner_text()
    pg.goto(f"{url}/map")  # a page the role is not given: not shown
    pg.get_by_text(f"Signed in as {WARD.name}").wait_for(timeout=60_000)
    pg.wait_for_timeout(1500)
    assert pg.get_by_text(PAGES["Map"], exact=True).count() == 0
    assert {"GET /authorize", "POST /token", "GET /jwks"} <= set(provider.log)
    assert left == [], left


def test_an_analyst_by_email_gets_the_map_and_saves_under_the_file_name(
    app: tuple, page: tuple
) -> None:
    url, provider, workspace = app
    pg, left = page
    sign_in_with_provider(pg, url, provider, "Ana.Lyst@Force.example")
    pg.get_by_text(f"Signed in as {ANALYST.name} (analyst)").wait_for(timeout=60_000)
    wait_loaded(pg, "Map")
    assert nav_titles(pg) == EXPECTED_PAGES["analyst"]
    # a small save: one field of an order; the audit trail names the signed-in user
    from playwright.sync_api import expect

    store = GeoPackageStore(workspace)
    pg.locator("[data-testid='stSidebarNav'] a", has_text="Closure orders").first.click()
    pg.get_by_text("Build the scope from blocks").wait_for(timeout=60_000)
    box = pg.locator("div[data-testid='stSelectbox']").filter(has_text="Order").first
    box.click()
    pg.keyboard.type("ORD-001")
    pg.get_by_role("option", name="ORD-001", exact=True).click()
    pg.get_by_text("History of ORD-001").wait_for(timeout=30_000)
    case = pg.get_by_role("textbox", name="Case reference")
    expect(case).to_have_count(1, timeout=30_000)  # the new-order form's widgets are gone
    expect(case).to_have_value("SYN-2024-001", timeout=30_000)
    case.fill("SYN-2024-001-OIDC")
    case.press("Enter")
    pg.get_by_text("Changed since the last save: case_reference").wait_for(timeout=30_000)
    pg.get_by_role("button", name="Save order").click()
    pg.get_by_text("saved ORD-001 (case_reference)").wait_for(timeout=30_000)
    assert store.read("orders").set_index("order_id").loc["ORD-001", "case_reference"] == (
        "SYN-2024-001-OIDC"
    )
    assert store.history(kind="orders").iloc[0]["user"] == ANALYST.name
    assert left == [], left


def test_an_unknown_email_without_a_role_claim_is_shown_nothing(app: tuple, page: tuple) -> None:
    url, provider, _ = app
    pg, left = page
    sign_in_with_provider(pg, url, provider, "nobody@elsewhere.example")
    error = pg.locator("[data-testid='stAlertContentError']")
    error.wait_for(timeout=60_000)
    assert "nobody@elsewhere.example" in error.inner_text()
    assert "no closuremap role is set for you" in error.inner_text()
    pg.wait_for_timeout(1500)  # the run has stopped: nothing after the refusal arrives
    assert nav_titles(pg) == set()
    assert pg.locator("[data-testid='stSidebar']").get_by_text("Signed in as").count() == 0
    for title in ("Map", "Ward briefing", "About the data"):
        assert pg.get_by_text(PAGES[title], exact=False).count() == 0
    assert pg.locator("iframe").count() == 0  # no map
    assert left == [], left


def test_a_groups_claim_makes_a_partner_and_sign_out_ends_it(app: tuple, page: tuple) -> None:
    url, provider, _ = app
    pg, left = page
    sign_in_with_provider(pg, url, provider, "pat@housing.example")
    # not in the user file: the provider's name, the role from its groups claim
    pg.get_by_text("Signed in as Pat Partner (Housing) (partner)").wait_for(timeout=60_000)
    wait_loaded(pg, "Map")
    assert nav_titles(pg) == EXPECTED_PAGES["partner"]
    # signing out sends the browser to Streamlit's logout route, which drops the identity cookie
    with pg.expect_response(lambda r: "/auth/logout" in r.url, timeout=30_000):
        pg.get_by_role("button", name="Sign out").click()
    pg.get_by_text("Sign in to closuremap").wait_for(timeout=60_000)
    assert not {"_streamlit_user", "_streamlit_user_tokens"} & {
        c["name"] for c in pg.context.cookies()
    }
    pg.goto(url)  # a new session: still signed out
    pg.get_by_text("Sign in to closuremap").wait_for(timeout=60_000)
    assert pg.get_by_text("Signed in as").count() == 0
    assert left == [], left
