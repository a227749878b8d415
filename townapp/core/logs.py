"""Log file in the data folder, with ID numbers masked before anything is written."""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

from townapp.core.idcard import mask_id_number

_ID_PATTERN = re.compile(r"(?<![0-9])[1-9]\d{16}[\dXx](?![0-9])")
_PHONE_PATTERN = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")


def mask_sensitive(text: str) -> str:
    text = _ID_PATTERN.sub(lambda m: mask_id_number(m.group(0)), text)
    return _PHONE_PATTERN.sub(lambda m: m.group(0)[:3] + "****" + m.group(0)[-4:], text)


class MaskingFilter(logging.Filter):
    """Rewrites each record's message so no full ID or mobile number reaches the file."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_sensitive(record.exc_text)
        record.msg, record.args = mask_sensitive(message), None
        return True


def configure_logging(path: Path, level: int = logging.INFO) -> None:
    """Rotating UTF-8 log file; called once by the CLI or the GUI at start-up."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_townapp", False):
            root.removeHandler(handler)
            handler.close()
    handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    handler._townapp = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root.addHandler(handler)
    root.setLevel(level)
