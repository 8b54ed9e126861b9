"""Documents: the court map exhibit, the legal documents and court bundle, the ward-member
briefing, consultation letters and the service pack."""
