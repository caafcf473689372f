"""Digests: their content (pure), the chart, and where their data comes from."""
