"""HTTP resources: one module per resource the API exposes."""
