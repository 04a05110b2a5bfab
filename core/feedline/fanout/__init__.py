"""Fan-out: messages (ids + a version tag, never objects), the worker that applies them, queues."""
