"""星级评定: one engine, schemes as data (DESIGN §2.5)."""
