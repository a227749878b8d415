"""The one Excel exchange pipeline: read, recognise, normalise, validate, match, report, apply.

Driven by declarative sheet specs that modules hand in (``<module>/sheets.py``);
this package never imports a module. Also templates, sync packages and the
annotated copy of a rejected workbook.
"""
