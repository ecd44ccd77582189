"""The spreadsheet import (R36) in the group's 客户信息统计表 layout, and that layout."""
