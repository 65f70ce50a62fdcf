"""The production package is the app alone: `pip install .` brings no sandbox code, only the
`addon` package and its data files (manifest, webhooks, dashboard pages)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_app_wheel_has_no_sandbox(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("saleor_mailchimp_addon-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.startswith("addon/app.py") for name in names)
    top = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    assert top == {"addon", "saleor_mailchimp_addon-0.1.0.data"}
    data = {name.split("/")[3] for name in names if name.split("/")[0].endswith(".data")}
    assert data == {"saleor-mailchimp-addon"}  # all under share/saleor-mailchimp-addon/
    assert not [name for name in names if "sandbox" in name.lower()]
    for name in names:
        if name.endswith(".py"):
            source = zipfile.ZipFile(wheel).read(name).decode()
            assert "import sandboxes" not in source and "from sandboxes" not in source, name
