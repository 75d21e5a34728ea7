"""One module per dashboard page (or group of pages); each is a thin shell over the use cases."""
