"""Paper presentation: the GoogLeNet paper's Table 1 layout (table1) and each kind's row text
in it (presentation)."""
