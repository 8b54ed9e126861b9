"""The problems a user can fix, one exception each.

Every message says what is wrong, where (file, row, feature) and how to fix it. The command line
and the pages catch :class:`ClosuremapError` in one place and show ``str(error)``; anything else is
a bug and should look like one.

    ClosuremapError
    ├── InputFileError      a file cannot be read, or is not in a format we read
    │   └── LimitError      a file over a size limit (a setting), refused before it is parsed
    ├── CoordinateError     the coordinates' CRS cannot be determined or is not usable
    ├── SchemaError         an unknown layer kind, or a column mapping that cannot work
    └── WorkspaceError      a workspace that is missing, not ours, or cannot be written
        └── StaleEditError  a save based on a version someone else has changed since

Modules add their own next to the rule they guard: ``TimelineError`` (geo.timeline), ``ScopeError``
(geo.scope), ``GeocodeError`` (geo.geocode), ``GridRefError`` (geo.gridref), ``GeorefError``
(geo.georef), ``DrawingError`` (geo.drawing), ``HotspotError`` (geo.hotspots); all are
ClosuremapErrors, so the command line and the pages handle them in the same one place.
"""


class ClosuremapError(Exception):
    """Base class for every error the user can fix."""


class InputFileError(ClosuremapError):
    """A file that cannot be read, or is not in a format we read."""


class LimitError(InputFileError):
    """A file larger than a limit the deployment set (bytes, rows, columns, vertices): refused
    before it is parsed, so one file cannot exhaust a shared machine; the message names the
    setting."""


class CoordinateError(ClosuremapError):
    """Coordinates whose reference system cannot be determined or used."""


class SchemaError(ClosuremapError):
    """An unknown layer kind, or data that cannot be mapped onto its schema."""


class WorkspaceError(ClosuremapError):
    """A workspace that is missing, not a closuremap workspace, or cannot be written."""


class StaleEditError(WorkspaceError):
    """An edit made to a feature as it was before someone else saved a change to it: refused, so
    nobody's change is lost; the message says who changed what since."""
