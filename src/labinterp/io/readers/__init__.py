"""Readers of lab exports: CSV, HL7 v2 and FHIR R4, and format detection."""
