"""Project departments report to their branch (seed 001; R80-R86)."""
