"""Reference data the project carries: the national boundaries (:mod:`.geography`)."""
