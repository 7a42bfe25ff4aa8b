"""Provenance: what produced a report — code, data, environment — stated so a reader can reproduce it.

The stable import path of :mod:`leftbehind.reports.provenance`, where the code lives.

Examples
--------
>>> sorted(environment()["versions"])
['matplotlib', 'pandas', 'papermill', 'python']
"""

from __future__ import annotations

from .reports.provenance import data_package, environment, git_commit, sha256_file

__all__ = ["data_package", "environment", "git_commit", "sha256_file"]
