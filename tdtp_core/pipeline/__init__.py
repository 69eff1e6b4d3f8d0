"""ETL pipelines: a YAML file of sources, SQL transform, processors and outputs.

::

    pipeline = load_pipeline("orders.yaml", variables={"since": "2026-01-01T00:00:00Z"})
    summary = run_pipeline(pipeline)          # or dry_run=True
    summary.raise_for_error()

The format is documented in ``sdk-docs/pipelines.md``; its JSON Schema is
``tdtp_core/pipeline/schema.json`` (``tdtp pipeline schema``).
"""

from __future__ import annotations

from tdtp_core.pipeline.loader import Pipeline, PipelineConfigError, load_pipeline, parse_pipeline
from tdtp_core.pipeline.runner import Check, Progress, run_pipeline, validate_pipeline
from tdtp_core.pipeline.schema import pipeline_schema
from tdtp_core.pipeline.summary import RunSummary

__all__ = [
    "Check",
    "Pipeline",
    "PipelineConfigError",
    "Progress",
    "RunSummary",
    "load_pipeline",
    "parse_pipeline",
    "pipeline_schema",
    "run_pipeline",
    "validate_pipeline",
]
