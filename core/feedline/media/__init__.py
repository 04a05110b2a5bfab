"""Files and images (``/files/``, ``/images/``): uploads, signed URLs, image processing.

``store.FileStore`` (the contract: bytes + name + type + uploader by id; bound to every backend by
a contract suite), ``model`` (ids, names, signed URLs: pure), ``images`` (Pillow: checking and
resizing), ``service.MediaService``, ``routes``.
"""
