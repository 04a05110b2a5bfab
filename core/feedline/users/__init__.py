"""Users (``/user/``): profiles that ``SU:<id>`` references point at.

``store.UserStore`` (the contract; bound to every backend by a contract suite), ``model`` (the
canonical stored bytes, which are the API's response), ``service.UserService``, ``routes``.
"""
