"""``python -m candlewick.cli``: the same as the ``candlewick`` console script."""

from candlewick.cli.main import main

main()
