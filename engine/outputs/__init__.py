"""What the engine writes and the plugin reads: field schemas, the vector writer, report helpers, quicklooks."""
