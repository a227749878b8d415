"""Printable and chart outputs (reportlab, matplotlib Figure); never imports a module — it is handed data."""
