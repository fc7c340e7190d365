"""courtcloud: infrastructure as code for a court's private cloud and its litigation services."""

__version__ = "0.1.0"
