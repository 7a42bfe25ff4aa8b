"""The package installs as a wheel that carries its data, and works from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from conftest import REPO


def test_wheel_carries_the_data_and_works_outside_the_repository(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels)],
        check=True,
        capture_output=True,
    )
    wheel = next(wheels.glob("leftbehind-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # a PYTHONPATH naming a source tree would make pip see leftbehind as installed already and skip the wheel
    clean = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        env=clean,
    )
    # the dependencies come from this environment's site-packages (a plain path: its .pth files, among them
    # the editable install of leftbehind, are not processed), so the wheel's own copy is what gets imported
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = (
        "import leftbehind, leftbehind.data as d, leftbehind.meta as m\n"
        "print(leftbehind.__file__)\n"
        "print(d.package_info()['source'])\n"
        "print(d.figures('migrant_workers', geography='WLD').shape)\n"
        "r = m.pool([0.2, 0.4, 0.3], [0.01, 0.02, 0.015], method='DL')\n"
        "print(round(r.estimate, 4))\n"
        "from leftbehind.plots import maps\n"
        "print(len(maps.boundaries()))\n"  # the boundary snapshot ships and verifies (issue 14)
    )
    out = subprocess.run(
        [str(python), "-c", code],
        cwd=work,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(str(env_dir)), lines[0]
    assert lines[1] == "installed with the package"
    assert lines[2].startswith("(") and lines[2].split(",")[0] == "(" + str(
        len(__import__("leftbehind.data").data.figures("migrant_workers", geography="WLD"))
    )
    # DL on (0.2, 0.4, 0.3) with variances (0.01, 0.02, 0.015): tau2 = 0, estimate 60/216.667 = 0.2769
    assert lines[3] == "0.2769"
    assert lines[4] == "240"  # Natural Earth's 241 units at 1:50m less Antarctica
