"""The HTTP contract: Stream's v1.0 wire envelope, JWT auth and policy, Stream-style errors."""
