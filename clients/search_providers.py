"""Global-search providers of the archive (crm.search.register); every one goes through restrict()."""
