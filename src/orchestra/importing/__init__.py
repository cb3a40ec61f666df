"""``POST /import/curl`` and ``POST /import/har``: the importers behind the API."""
