"""Documents: the court map exhibit, the ward-member briefing, consultation letters, the service pack."""
