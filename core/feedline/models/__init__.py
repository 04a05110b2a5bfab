"""Activities, feed ids, time-uuid ids and their validation."""
