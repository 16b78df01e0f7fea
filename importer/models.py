"""Spreadsheet and CSV imports."""
