"""Crash dump cabinets (CABs): checking and opening them, reading their dumps, collecting and storing them."""
