"""Activities: each stored once (``store.ActivityStore``), validated and encoded by ``model``,
added, removed, looked up and updated by ``service.ActivityService``; request bodies are turned
into typed inputs by ``inputs``; ``routes`` are the HTTP routes."""
