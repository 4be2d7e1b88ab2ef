"""``python -m cslnb``: see :mod:`cslnb.cli`."""

from cslnb.cli import main

raise SystemExit(main())
