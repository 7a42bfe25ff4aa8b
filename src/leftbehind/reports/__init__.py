"""The report runner: a plan of notebooks × parameters → executed notebooks, HTML reports and an index.

The plan is a YAML file (by default ``notebooks/reports.yaml``)::

    reports:
      - name: 01_headline_figures          # output name: reports/<name>.html and .ipynb
        notebook: 01_headline_figures.ipynb  # relative to the plan's folder
        title: Headline figures on labour migration
        parameters: {topic: all}

Running the plan (:func:`run`, or ``python -m leftbehind reports``):

1. checks every entry's parameters against the notebook's ``parameters`` cell (names and types, via
   :func:`papermill.inspect_notebook`) and against the known domains in :data:`DOMAINS`, before any kernel
   starts (:func:`check`);
2. executes each report with papermill into a temporary folder, removes run-to-run noise
   (:func:`leftbehind.notebooks.normalise`), exports HTML in this process with nbconvert (code hidden unless
   ``show_code``), and moves both files into ``reports/`` atomically;
3. keeps going when one report fails: its previous good files stay untouched, the failed execution is kept
   as ``reports/_failed/<name>.ipynb``, and the summary names the failing cell;
4. writes ``reports/manifest.json`` and ``reports/index.html`` from what is on disk, listing every report with
   its parameters and the plan it comes from (several plans may share an output folder; none drops the
   others' entries).

Modules, one step of the job each: ``guards`` (bounds on plan files, output folders that would overwrite
sources), ``plan`` (read the plan, expand grids, check parameters), ``domains`` (valid parameter values), ``inspection`` (what a notebook declares),
``outcomes`` (what happened to a report), ``execute`` (a kernel per report, worker processes, what went wrong), ``kernel`` (kernels started with the
runner's own interpreter and asked what they ran), ``processes`` (a report's processes found by ancestry and
stopped with it), ``inputs`` (what
a report depends on: incremental builds), ``notebooks`` (normalise and store notebooks), ``provenance`` (code,
data and environment of a run), ``publish`` (one report's files, isolated: image checks, HTML, thumbnail
rendered by the worker that executed it, written by the runner), ``site`` (provenance header, manifest and
index), ``warm`` and ``_template`` (kernels forked from a pre-imported template), ``run`` (the whole run: lock,
parallel jobs, signals).

Examples
--------
>>> plan = load_plan(default_plan_path())
>>> plan[0].name
'01_headline_figures'
"""

from __future__ import annotations

from .domains import DOMAINS, NOTEBOOK_DOMAINS, RULES
from .outcomes import Outcome, run_summary
from .plan import Report, check, default_plan_path, load_plan, select
from .run import default_output_dir, run
from .site import render_index

__all__ = [
    "Report",
    "Outcome",
    "DOMAINS",
    "default_plan_path",
    "default_output_dir",
    "load_plan",
    "select",
    "check",
    "run",
    "render_index",
    "run_summary",
]

# Not in __all__, kept importable for existing callers: per-notebook parameter domains, cross-parameter rules.
_ = (NOTEBOOK_DOMAINS, RULES)
