"""Where the project's non-Python parts live: beside the `addon` package in a checkout (and an
editable install), under `<prefix>/share/saleor-mailchimp-addon/` where the wheel installs them
(its data files, see pyproject.toml)."""

import sys
from pathlib import Path


def _root() -> Path:
    beside = Path(__file__).resolve().parent.parent
    if (beside / "manifest.json").is_file():
        return beside
    return Path(sys.prefix) / "share" / "saleor-mailchimp-addon"


PROJECT_ROOT = _root()
MANIFEST_FILE = PROJECT_ROOT / "manifest.json"
WEBHOOKS_DIR = PROJECT_ROOT / "webhooks"
SETTINGS_UI_DIR = PROJECT_ROOT / "settings_ui"
