"""One router per resource; each route is a thin shell over a use case."""
