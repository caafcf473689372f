"""OKRs as code: the OKR file's schema, its line-numbered YAML, import into the database,
export and dump back to YAML, and the demo organisation."""
