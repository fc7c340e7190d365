"""HTTP and WebSocket resources: one module per resource the API exposes."""
