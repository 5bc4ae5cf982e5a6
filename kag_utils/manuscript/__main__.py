"""python -m kag_utils.manuscript build|generate|check (see kag_utils.manuscript.generator)."""
import sys

from .generator import main

sys.exit(main())
