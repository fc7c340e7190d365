"""The court's OCR logic, free of web and database types."""
