"""Operating nodes outside ``pulumi up``: the command line, ``render`` for review, ``status`` on day two."""
