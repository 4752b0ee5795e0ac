"""Several workers share one login limit through Redis (RATELIMIT_STORAGE_URI)."""

import json
import os
import subprocess
import sys
import textwrap
import uuid

import pytest
import redis

from tests.conftest import IN_CI, TEST_CONFIG, Browser
from wizard import create_app, db
from wizard.seed import seed_demo

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# The second worker is another process, as under gunicorn: it shares nothing in memory.
OTHER_WORKER = textwrap.dedent("""
    import json, sys
    from tests.conftest import Browser
    from wizard import create_app
    app = create_app(json.loads(sys.argv[1]), instance_path=sys.argv[2])
    print(Browser(app.test_client()).login("buyer@nordlys.test", "another-guess").status_code)
""")


@pytest.fixture
def redis_url():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        if IN_CI:
            pytest.fail(f"Redis is required under CI=true but unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    finally:
        client.close()
    return REDIS_URL


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_second_worker_process_sees_the_failed_logins_of_the_first(database_url, redis_url, tmp_path):
    config = {
        **TEST_CONFIG,
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex,
    }
    first = create_app(config, instance_path=str(tmp_path))
    with first.app_context():
        seed_demo(db.session())
    browser = Browser(first.test_client())
    assert [browser.login("buyer@nordlys.test", f"guess-{i}").status_code for i in range(5)] == [401] * 5
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, "-c", OTHER_WORKER, json.dumps(config), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "429"
    first.extensions["db_engine"].dispose()
