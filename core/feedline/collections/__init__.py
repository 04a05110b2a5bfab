"""Collections (``/collections/``): app objects that ``SO:<collection>:<id>`` references point at.

``store.CollectionStore`` (the contract; bound to every backend by a contract suite), ``model``
(the canonical stored bytes, which are the API's response), ``service.CollectionService``,
``routes``.

(Inside the package, import the standard library's ``collections`` as usual: absolute imports
never resolve to ``feedline.collections``.)
"""
