"""API keys: making them, storing only their hashes, and checking them."""
