"""Where the project's non-Python parts live (next to the `addon` package, per the design card)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_FILE = PROJECT_ROOT / "manifest.json"
WEBHOOKS_DIR = PROJECT_ROOT / "webhooks"
SETTINGS_UI_DIR = PROJECT_ROOT / "settings_ui"
