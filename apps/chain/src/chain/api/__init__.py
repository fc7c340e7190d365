"""HTTP API: one module per resource (evidence, log, witness, health)."""
