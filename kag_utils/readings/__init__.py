"""From numbers to statements: seed aggregation (``aggregate``), verbal-claim and curve rules
(``rules``), composite readings of notebook rows (``claims``), the comparison verdicts
(``verdicts``), tail summaries (``tails``), the Goldilocks windows of the interpolating
families (``goldilocks``, on the one window rule of ``rules``), the names of shared comparison
rows (``claim_names``) and the published numbers they are compared with (``paper_values``). Pure functions, no I/O.

The rules are re-exported here, so ``kag_utils.readings.onset(...)`` reads a curve."""
from .rules import *  # noqa: F401,F403
from .rules import __all__  # noqa: F401
