"""Filter models and the query functions that routers call; all SQL lives here."""
