"""planner: GPU resource plans for training and serving large language models.

Data flows one way (see STYLE in the repository):
spec YAML -> ``load_spec`` -> ``Spec`` -> ``estimate`` -> ``Estimate``
-> plans, reports. Only the CLI and the report writer touch files.
"""

__version__ = "0.1.0"
