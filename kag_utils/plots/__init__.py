"""What the notebooks draw: one module per notebook family, each function takes the tables the
library computed and returns a figure in the shared style (``kag_utils.figures.style``). They
draw only; every number they show is computed elsewhere and tested there."""
