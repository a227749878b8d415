"""Shared kernel without Qt: errors, 身份证号, dates, text, pinyin, progress."""
