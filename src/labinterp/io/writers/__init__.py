"""Writers of interpreted frames: CSV, Parquet, JSON lines, FHIR R4 and HTML."""
