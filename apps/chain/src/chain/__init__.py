"""courtcloud chain: an evidence-storage transparency log with China's national algorithms."""

__version__ = "0.1.0"
