"""Tasks of access grants (R5): revoking expired grants."""
