"""What a run leaves: result and failure records, the record store, predictions files, and what is read from them (compare, export)."""
