"""The import contracts in pyproject.toml (run by `make lint`) cover every app and every transport
module: import-linter's wildcards match whole names only, so a new `*_views` or `*_consumer` module,
or a new app, would otherwise escape them unnoticed."""

from __future__ import annotations

import tomllib

from config.embedded_services import PROJECT_DIR

CONFIG = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {contract["id"]: contract for contract in CONFIG["contracts"]}
APPS = sorted(path.parent.name for path in PROJECT_DIR.glob("*/apps.py"))


def test_every_app_is_in_a_layer_and_in_the_graph():
    layered = {
        app.strip() for layer in CONTRACTS["layers"]["layers"] for app in layer.replace("|", ":").split(":")
    }
    assert set(APPS) <= layered, set(APPS) - layered
    assert set(APPS) <= set(CONFIG["root_packages"])
    assert set(APPS) <= set(CONTRACTS["no-foreign-transports"]["source_modules"])


def test_every_views_and_consumer_module_is_a_forbidden_transport():
    named = [
        f"{app}.{path.stem}"
        for app in APPS
        for path in (PROJECT_DIR / app).glob("*.py")
        if path.stem.endswith(("_views", "_consumer"))
    ]
    assert "inbox.agent_views" in named  # the scan finds them
    for contract_id in ("no-foreign-transports", "transports-above-services"):
        forbidden = set(CONTRACTS[contract_id]["forbidden_modules"])
        assert {"*.views", "*.consumers"} <= forbidden
        assert set(named) <= forbidden, (contract_id, set(named) - forbidden)
