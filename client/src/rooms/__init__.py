"""The rooms API: generated protobuf and gRPC stubs."""
