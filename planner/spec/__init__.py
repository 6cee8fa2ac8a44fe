"""The spec: YAML in, validated frozen ``Spec`` out (see ``load_spec``)."""

from planner.spec.loader import load_spec, load_spec_text
from planner.spec.model import Spec

__all__ = ["Spec", "load_spec", "load_spec_text"]
