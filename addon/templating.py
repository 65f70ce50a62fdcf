"""The Jinja2 environment for server-rendered pages (templates live in `settings_ui/`)."""

from __future__ import annotations

from starlette.templating import Jinja2Templates

from addon.paths import SETTINGS_UI_DIR

templates = Jinja2Templates(directory=SETTINGS_UI_DIR / "templates")
