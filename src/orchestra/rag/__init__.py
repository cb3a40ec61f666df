"""Retrieval-augmented generation: a project's documents cut into chunks, embedded and full-text indexed,
searched by hybrid retrieval (vector + full-text, fused by Reciprocal Rank Fusion)."""
