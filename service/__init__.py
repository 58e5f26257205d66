"""The rooms server: transport (gRPC edge) -> use cases -> domain rules, and storage."""
