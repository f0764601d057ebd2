"""The Open311 GeoReport v2 facade (issue 19): a thin translation over app/reports, at /open311/v2."""
