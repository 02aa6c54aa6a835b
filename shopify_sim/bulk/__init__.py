"""Bulk query operations: validation, a compiled projector to JSONL, and a per-shop manager."""
