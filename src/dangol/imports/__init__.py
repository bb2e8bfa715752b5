"""Data in from files: CSV and Excel exports of POS systems, spreadsheets and delivery apps."""
