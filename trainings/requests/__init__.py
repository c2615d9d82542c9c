"""Journey 2: workshops "na klíč", methodical support A1–A7 and kraj packages,
from a public form to the kraj's coordinator, through their states, to closed terms."""
