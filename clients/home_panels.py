"""Home-page panels of the archive (crm.dashboard.register); every figure goes through restrict()."""
