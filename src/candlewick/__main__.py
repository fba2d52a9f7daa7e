"""``python -m candlewick``: the same as the ``candlewick`` command."""

from candlewick.cli.main import main

main()
