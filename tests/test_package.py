"""`pip install .` gives a working wizard: built as a wheel, installed into a fresh virtualenv away
from the checkout, it migrates a database, loads the demo data and serves pages and static files."""

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run inside the fresh virtualenv with its own interpreter, from a folder that is not the checkout.
RENDER = textwrap.dedent(
    """
    import re

    import wizard
    from wizard import create_app

    app = create_app()
    client = app.test_client()
    swedish = client.get("/login", headers={"Accept-Language": "sv"})
    assert b'<html lang="sv">' in swedish.data and "Logga in".encode() in swedish.data, swedish.data[:300]
    login = client.get("/login")
    assert login.status_code == 200 and b'name="password"' in login.data, login.status_code
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', login.data).group(1).decode()
    client.post("/login", data={"csrf_token": token, "email": "buyer@nordlys.test", "password": "demo-buyer-pw"})
    subs = client.get("/settings/account/subs")
    assert subs.status_code == 200 and b"Nordlys AB" in subs.data, subs.status_code
    htmx = client.get("/static/htmx-4.0.1.min.js")
    assert htmx.status_code == 200 and len(htmx.data) > 10_000
    print("served from", wizard.__file__)
    """
)


def run(*args, cwd, env=None):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(map(str, args))}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", dist, ROOT, cwd=tmp_path)
    (wheel,) = dist.glob("subs_wizard-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for folder in ("templates", "static", "wizard/migrations"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                shipped = "wizard/" + str(path.relative_to(ROOT)).removeprefix("wizard/")
                assert shipped in names, f"{path.relative_to(ROOT)} is not in the wheel"
    for po in (ROOT / "wizard" / "translations").glob("*/LC_MESSAGES/messages.po"):
        compiled = str(po.with_suffix(".mo").relative_to(ROOT))
        assert compiled in names, f"{compiled} was not compiled into the wheel"

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", wheel, cwd=tmp_path)

    site = tmp_path / "site"  # neither the checkout nor on its path
    site.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "SECRET_KEY": "wheel-test-secret",
        "SESSION_COOKIE_SECURE": "false",
        "DATABASE_URL": f"sqlite:///{site / 'wizard.sqlite3'}",
    }
    assert "Database is at the newest schema." in run(
        python, "-m", "flask", "--app", "wizard", "init-db", cwd=site, env=env
    )
    assert "Demo data is loaded." in run(python, "-m", "flask", "--app", "wizard", "seed-demo", cwd=site, env=env)
    served = run(python, "-c", RENDER, cwd=site, env=env)
    assert str(venv) in served  # the installed copy, not the checkout
