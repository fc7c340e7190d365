"""The court's speech-recognition logic, free of web types."""
