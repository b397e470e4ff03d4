"""Instances to solve: the built-in examples (:mod:`.examples`) and the generated
families (:mod:`.generators`: layered DAGs, transformer encoders, residual and
inception-like CNNs, costed by :mod:`placement_ilp.importers.costmodel`)."""
