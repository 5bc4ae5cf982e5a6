"""python -m kag_utils.manuscript build|generate|check (see kag_utils.manuscript.latex)."""
import sys

from .latex import main

sys.exit(main())
