"""Collections (``/collections/``): the room for issue #11; same shape as ``reactions``.

(Inside the package, import the standard library's ``collections`` as usual: absolute imports
never resolve to ``feedline.collections``.)
"""
