"""Domain rules of virtual rooms. Imports neither grpc nor asyncpg."""
