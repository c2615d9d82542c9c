"""Files staff download: the participant list (CSV, XLSX), the prezenční
listina and the osvědčení (PDF), and the reporting workbook.

Each builder is a pure function of rows read in one query and returns bytes;
the views only name the file.
"""
