"""Users (``/user/``): the room for issue #11; same shape as ``reactions``."""
