"""Config drift: what runs in the cluster against what Git says should.

`config` reads `[drift]` from HOWL_CONFIG; `manifests` loads objects (multi-document
YAML, JSON, kubectl `List`s); `detect` normalises both sides and diffs them;
`analyse` gives each difference a level; `interpret` asks the model (or the
embedded engine) for the likely intent; `scan` ties them together and never
raises; `operations` are what the report card's buttons do once approved.
"""
