"""What a task is: its spec, its head, its metrics, and its data loaded in one canonical schema."""
