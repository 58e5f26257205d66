"""Only the server's dependencies are computed here; everything else is in pyproject.toml.

rooms-service depends on rooms-client. From a checkout (`pip install .`) that is the
client next to this file, `rooms-client @ file:///.../client`, so no index is needed;
built from the sdist (`make dist`, whose wheels go together into dist/) it is
`rooms-client==<this version>`, found with `pip install --find-links dist`.
ROOMS_CLIENT_REQUIREMENT overrides both: the Makefile sets it to `rooms-client` for its
editable install of both projects (pip refuses a file URL next to an editable client).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
project = tomllib.loads((HERE / "pyproject.toml").read_text())
pins: list[str] = list(project["tool"]["rooms-service"]["dependencies"])
client = HERE / "client"
if os.environ.get("ROOMS_CLIENT_REQUIREMENT"):
    pins.append(os.environ["ROOMS_CLIENT_REQUIREMENT"])
elif (client / "pyproject.toml").is_file():
    pins.append(f"rooms-client @ {client.as_uri()}")
else:
    pins.append(f"rooms-client=={project['project']['version']}")

setup(install_requires=pins)
