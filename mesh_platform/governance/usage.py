"""Which columns of an input port a consumer's SQL reads: the Mesh's analysis
(mesh/column_reads.py), kept under this name for the gate's callers."""

from mesh_platform.mesh.column_reads import ColumnUse, relation_reads, source_reads

__all__ = ["ColumnUse", "relation_reads", "source_reads"]
