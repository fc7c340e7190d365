"""The evidence chain's logic: free of web and database types."""
