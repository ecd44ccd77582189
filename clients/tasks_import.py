"""Tasks of the spreadsheet import (R36)."""
