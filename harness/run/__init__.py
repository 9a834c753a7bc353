"""A `bench run`: the model resolved, the options checked, the grid of tasks and seeds, fine-tuning, the floor a constant gets."""
