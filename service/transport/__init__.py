"""The gRPC edge: convert the request, call the use case, convert the answer."""
