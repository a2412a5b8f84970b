"""The analyst exports: the XLSX workbook and the CSV folder, built from the same tidy tables."""
