"""Cross-branch access (R4, R5): requests, grants, the access log and client transfers."""
