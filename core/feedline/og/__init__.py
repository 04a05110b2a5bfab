"""Open Graph (``/og/``): the metadata of a web page, for link previews.

``fetch`` (the SSRF-safe, bounded page fetch), ``parse`` (HTML to Stream's Open Graph shape, pure),
``service.OgService`` (fetch, parse, a small cache), ``routes``. No store: nothing is kept but the
in-memory cache of one execution environment.
"""
