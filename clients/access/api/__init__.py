"""API of cross-branch access: requests, the access log and client transfers."""
