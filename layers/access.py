"""Who may do what in a shared workspace: the four roles of a closure partnership.

- ``analyst``: import, draw, edit, geocode; reads everything.
- ``supervisor``: an analyst who may also authorise notices and orders (the ranks in the Act:
  s.77(1) inspector for a notice's authorisation; superintendent for an extension, s.77(4)-(5)).
- ``partner`` (council, housing provider, outreach): views the map and orders, comments, records
  objections, makes letters; never reads incident text (what a caller said, where, who).
- ``ward_member``: the ward briefing only: counts per block and month, no personal data, no exact
  incident points, no incident text.

The rules are data here so that the store guard (app and CLI), the pages shown, and the PostGIS
grants are made from the same table, never kept in step by hand.
"""

from __future__ import annotations

ROLES = ("analyst", "supervisor", "partner", "ward_member")

#: Columns holding incident text or personal data, by kind: what a partner's and a ward member's
#: reads never carry (the PostGIS grants leave them out of the partner's column grants).
INCIDENT_TEXT: dict[str, tuple[str, ...]] = {
    "incidents": ("description", "location_text", "reference", "source_attrs", "category_original"),
    "breaches": ("description", "reference", "source_attrs"),
}

#: The database role each closuremap role is, on PostGIS (a NOLOGIN group; logins are members).
DB_ROLES = {role: f"closuremap_{role}" for role in ROLES}
