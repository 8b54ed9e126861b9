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

The guard is :class:`RoleStore`: it wraps any :class:`~.store.WorkspaceStore` and is one itself,
so every page, command and document works on it unchanged. A read beyond the role is refused
(:class:`AccessDenied`) or comes back without what the role may not see; a write beyond it is
refused before anything is written. The app and the command line open every workspace through
:func:`open_for`; on PostGIS the database roles (:data:`DB_ROLES`) hold a direct SQL client to the
same rules.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

import geopandas as gpd

from closuremap.geo.aggregate import BLOCK_REACH_M
from closuremap.geo.errors import WorkspaceError

from .store import WorkspaceStore, open_workspace

ROLES = ("analyst", "supervisor", "partner", "ward_member")

#: Columns holding incident text or personal data, by kind: what a partner's and a ward member's
#: reads never carry (the PostGIS grants leave them out of the partner's column grants).
INCIDENT_TEXT: dict[str, tuple[str, ...]] = {
    "incidents": ("description", "location_text", "reference", "source_attrs", "category_original"),
    "breaches": ("description", "reference", "source_attrs"),
}

#: The database role each closuremap role is, on PostGIS (a NOLOGIN group; logins are members).
DB_ROLES = {role: f"closuremap_{role}" for role in ROLES}

#: Every action a role may be allowed, in the words a refusal uses.
ACTIONS: dict[str, str] = {
    "read": "read the map layers, orders and settings",
    "read_incident_text": "read incident descriptions, locations and references",
    "read_exact_points": (
        "read personal data: incidents, breaches and addresses one by one at their exact points, "
        "objections and case records"
    ),
    "import": "import files (and read the import log and its rejected rows)",
    "edit": "draw and edit features",
    "geocode": "geocode and review incident placings",
    "edit_orders": "edit closure orders",
    "authorise": "authorise a closure notice, an order or an extension",
    "comment": "log objections and partners' views on an order",
    "record_service": "record the service of a notice",
    "letters": "make consultation letters",
    "documents": "make the exhibit, service pack, legal documents and the court bundle",
    "evaluation": "evaluate orders (before and after)",
    "briefing": "make the ward-member briefing",
    "settings": "change the workspace's settings",
    "history": "read the audit trail",
}

_ANALYST = frozenset(ACTIONS) - {"authorise"}
#: The permission table: role -> the actions it may take.
PERMISSIONS: dict[str, frozenset[str]] = {
    "analyst": _ANALYST,
    "supervisor": frozenset(ACTIONS),
    "partner": frozenset(
        {
            "read",
            "read_exact_points",
            "comment",
            "letters",
            "evaluation",
            "briefing",
            "history",
        }
    ),
    "ward_member": frozenset({"read", "briefing", "history"}),
}

#: Kinds holding personal data or exact incident points: a ward member reads none of them.
PERSONAL_KINDS = ("incidents", "breaches", "addresses")
#: Order fields a ward member's reads leave out: the statement of facts and notes tell of
#: incidents and people.
ORDER_PRIVATE = ("facts", "notes", "case_reference")
#: Order statuses whose setting is an authorisation (s.76-77 notice, s.80 order, s.82 extension).
AUTHORISING_STATUSES = ("notice_issued", "order_made", "extended")
#: Meta keys whose change belongs to an action other than ``settings``.
_META_ACTIONS = (("exhibit_ref:", "documents"), ("letter_template", "letters"))


class AccessDenied(WorkspaceError):
    """Something the signed-in role may not do: refused, with the roles that may."""


def may(role: str, action: str) -> bool:
    """Whether ``role`` may take ``action`` (:data:`ACTIONS`)."""
    if action not in ACTIONS:
        raise KeyError(f"unknown action '{action}'")
    return action in PERMISSIONS.get(role, frozenset())


def roles_that_may(action: str) -> list[str]:
    """The roles allowed ``action``, in :data:`ROLES` order."""
    return [r for r in ROLES if may(r, action)]


def role_words(role: str) -> str:
    """``ward_member`` as 'ward member'."""
    return role.replace("_", " ")


def require(role: str, action: str, what: str | None = None) -> None:
    """Refuse ``action`` unless ``role`` may take it: the message says which roles may."""
    if may(role, action):
        return
    names = [role_words(r) for r in roles_that_may(action)]
    allowed = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    raise AccessDenied(
        f"a {role_words(role)} may not {what or ACTIONS[action]}: only "
        f"{allowed} may; ask one of them, or an administrator to change your role"
    )


def meta_action(key: str) -> str:
    """The action a change of the setting ``key`` is."""
    return next((a for prefix, a in _META_ACTIONS if key.startswith(prefix)), "settings")


def _authorises(attrs: Mapping[str, Any], current: Mapping[str, Any] | None) -> bool:
    """Whether writing ``attrs`` onto an order now ``current`` (None: a new order) authorises a
    notice, an order or an extension: a status set to one of :data:`AUTHORISING_STATUSES`, or who
    authorised it given or changed."""

    def text(value: Any) -> str:
        return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)

    before = current or {}
    status = text(attrs.get("status"))
    changed = status != text(before.get("status"))
    if "status" in attrs and status in AUTHORISING_STATUSES and changed:
        return True
    who = text(attrs.get("authorised_by")).strip()
    return "authorised_by" in attrs and who != text(before.get("authorised_by")).strip()


def generalise_to_blocks(
    incidents: gpd.GeoDataFrame, premises: gpd.GeoDataFrame, reach_m: float = BLOCK_REACH_M
) -> gpd.GeoDataFrame:
    """Incidents as the ward briefing counts them: the date only (no time), and in place of the
    exact point, a point inside the block it is counted for (within ``reach_m``, the nearest, as
    :func:`closuremap.geo.aggregate.counts_by_block` does), or no point for one at no block. No
    text, no reference, no exact place: per-block and per-month counts come out the same."""
    when = incidents.get("occurred_at", pd.Series(None, index=incidents.index, dtype=object))
    out = gpd.GeoDataFrame(
        {"occurred_at": when.astype("string").str.slice(0, 10).astype(object)},
        geometry=gpd.GeoSeries([None] * len(incidents), index=incidents.index, crs=incidents.crs),
        crs=incidents.crs,
    )
    located = incidents[incidents.geometry.notna() & ~incidents.geometry.is_empty]
    if len(located) and len(premises):
        joined = gpd.sjoin_nearest(
            located[["geometry"]],
            premises[["block_id", "geometry"]],
            how="inner",
            max_distance=reach_m,
        )
        joined = joined[~joined.index.duplicated(keep="first")]
        points = premises.set_index("block_id").geometry.representative_point()
        points = points[~points.index.duplicated(keep="first")]
        out.loc[joined.index, "geometry"] = points.loc[joined["block_id"]].to_numpy()
    return out.reset_index(drop=True)


class GuardedTransaction:
    """A transaction of a role that may write: an order's authorisation still needs the right to
    authorise, and every change is recorded under the signed-in name."""

    def __init__(self, tx: Any, guard: RoleStore) -> None:
        self._tx = tx
        self._guard = guard

    def add(self, kind: str, features: gpd.GeoDataFrame, **kw: Any) -> Any:
        self._guard._check_feature_write(kind, kw.get("user"), new=features)
        return self._tx.add(kind, features, **kw)

    def update(self, kind: str, feature_id: str, **kw: Any) -> Any:
        self._guard._check_feature_write(
            kind, kw.get("user"), feature_id=feature_id, attributes=kw.get("attributes")
        )
        return self._tx.update(kind, feature_id, **kw)

    def delete(self, kind: str, feature_ids: Sequence[str], **kw: Any) -> Any:
        self._guard._check_feature_write(kind, kw.get("user"))
        return self._tx.delete(kind, feature_ids, **kw)

    def set_meta(self, key: str, value: str, **kw: Any) -> Any:
        self._guard._check_meta(key, kw.get("user"))
        return self._tx.set_meta(key, value, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)  # the import's plumbing: review queue, rejects, log


class RoleStore:
    """A workspace store opened for one person in one role: reads and writes beyond the role are
    refused (or, for a partner's reads of incidents, come back without their text), so a page or
    command cannot show or change more than the role allows, whatever its buttons offer.

    ``operation``: a partner's operation, or several (a partner's own PostGIS login may have
    more than one, as the row-level security on orders has them); their reads of orders keep
    those operations' only."""

    def __init__(
        self,
        store: WorkspaceStore,
        *,
        role: str,
        user: str | None,
        operation: str | Sequence[str] | None = None,
    ) -> None:
        if role not in ROLES:
            raise AccessDenied(f"role '{role}' is not one of: {', '.join(ROLES)}")
        self._store = store
        self.role = role
        self.user = user
        self.operations: tuple[str, ...] = (
            (operation,) if isinstance(operation, str) else tuple(operation or ())
        )
        self.operations = tuple(o for o in self.operations if o)
        #: as given (a name, or a tuple of them): a cache key and what :func:`open_for` takes back
        self.operation: str | tuple[str, ...] | None = (
            None
            if not self.operations
            else self.operations[0]
            if len(self.operations) == 1
            else self.operations
        )
        self.location = store.location

    def __repr__(self) -> str:
        return f"RoleStore({self.location!r}, role={self.role!r}, user={self.user!r})"

    # -- the rules --------------------------------------------------------------------------------
    def may(self, action: str) -> bool:
        """Whether this store's role may take ``action``."""
        return may(self.role, action)

    def require(self, action: str, what: str | None = None) -> None:
        """Refuse ``action`` unless the role may take it."""
        require(self.role, action, what)

    def _check_user(self, user: str | None) -> None:
        if self.user and user is not None and user.strip() != self.user:
            raise AccessDenied(
                f"signed in as {self.user}: a change is recorded under your own name, not '{user}'"
            )

    def _write_action(self, kind: str) -> str:
        return "edit_orders" if kind == "orders" else "edit"

    def _check_feature_write(
        self,
        kind: str,
        user: str | None,
        *,
        feature_id: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        new: gpd.GeoDataFrame | None = None,
    ) -> None:
        self.require(self._write_action(kind), f"change {kind.replace('_', ' ')}")
        self._check_user(user)
        if kind != "orders" or self.may("authorise"):
            return
        if new is not None:
            for _, row in new.iterrows():
                if _authorises(row.to_dict(), None):
                    self.require("authorise")
        elif attributes:
            current = None
            if feature_id is not None:
                orders = self._store.read("orders")
                match = orders[orders["feature_id"].astype(str) == str(feature_id)]
                current = match.iloc[0].to_dict() if len(match) else None
            if _authorises(attributes, current):
                self.require("authorise")

    def _check_meta(self, key: str, user: str | None) -> None:
        self.require(meta_action(key), f"change the setting '{key}'")
        self._check_user(user)

    # -- reads --------------------------------------------------------------------------------
    def read(
        self, kind: str, bbox: tuple[float, float, float, float] | None = None
    ) -> gpd.GeoDataFrame:
        """A kind's features as the role may see them."""
        self.require("read", f"read {kind.replace('_', ' ')}")
        if kind in PERSONAL_KINDS:
            self.require("read_exact_points", f"read {kind} one by one")
        frame = self._store.read(kind, bbox)
        if kind in INCIDENT_TEXT and not self.may("read_incident_text"):
            frame = frame.drop(columns=[c for c in INCIDENT_TEXT[kind] if c in frame.columns])
        if kind == "orders":
            frame = self._orders_seen(frame)
        return frame

    def _orders_seen(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        if self.role == "partner" and self.operations and "operation" in frame.columns:
            frame = frame[frame["operation"].fillna("").astype(str).isin(self.operations)]
        if self.role == "ward_member":
            frame = frame.drop(columns=[c for c in ORDER_PRIVATE if c in frame.columns])
        return frame

    def briefing_incidents(self) -> gpd.GeoDataFrame:
        """The one read of incidents a ward member has: dates and blocks, no points, no text
        (:func:`generalise_to_blocks`)."""
        self.require("briefing")
        own = getattr(self._store, "briefing_incidents", None)
        if callable(own):  # a PostGIS store: from the briefing views for a ward member's login
            return own()  # type: ignore[no-any-return]
        return generalise_to_blocks(self._store.read("incidents"), self._store.read("premises"))

    def evaluate_order(self, order_id: str, **options: Any) -> Any:
        """Before and after for one order, counted on the exact points inside the data layer: the
        result holds counts only, so a ward member's briefing may carry it."""
        from .evaluation import evaluate_order  # heavy: only when an evaluation is asked for

        if not self.may("evaluation"):
            self.require("briefing", "evaluate an order")
        if order_id not in set(self.read("orders")["order_id"].astype(str)):
            raise AccessDenied(f"order {order_id} is not one of the orders you may see")
        return evaluate_order(self._store, order_id, **options)

    def count(self, kind: str) -> int:
        """How many features a kind has: a count, not personal data, for every role that reads."""
        self.require("read", f"count {kind}")
        return self._store.count(kind)

    def bounds(self, kind: str) -> tuple[float, float, float, float] | None:
        """A kind's extent; of incidents, breaches and addresses only for those who read them one
        by one (the edges of the extent are exact points)."""
        self.require("read", f"read where {kind} lie")
        if kind in PERSONAL_KINDS:
            self.require("read_exact_points", f"read where {kind} lie")
        return self._store.bounds(kind)

    def history(self, kind: str | None = None, feature_id: str | None = None) -> pd.DataFrame:
        """The audit trail; a partner's without the before and after of incidents and breaches,
        a ward member's without any before and after."""
        self.require("history")
        frame = self._store.history(kind, feature_id)
        if self.may("read_incident_text"):
            return frame
        hidden = (
            frame["kind"].isin(list(INCIDENT_TEXT))
            if self.may("read_exact_points")
            else pd.Series(True, index=frame.index)
        )
        frame = frame.copy()
        for column in ("before", "after"):
            if column in frame.columns:
                frame[column] = frame[column].astype(object).where(~hidden, None)
        return frame

    def verify_chain(self) -> Any:
        """The audit chain verified on the whole, unredacted trail (an
        :class:`~.audit_chain.ChainReport`: counts, ids and hashes only), so a role that reads the
        trail without the before and after of incidents can still check that nothing was
        altered."""
        from .audit_chain import verify

        self.require("history", "verify the audit trail")
        own = getattr(self._store, "verify_chain", None)
        if callable(own):  # PostGIS: a login that may not read every entry verifies in the database
            return own()
        trail = self._store.history()
        return verify(trail.iloc[::-1].to_dict("records"))

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        return self._store.get_meta(key, default)

    def content_version(self) -> str:
        """The store's content version, with the role in it: every cached read keys on this, so
        one role's redacted frames are never served to another, nor another's to this one."""
        return f"{self.role}:{','.join(self.operations)}:{self._store.content_version()}"

    def version(self, kind: str, feature_id: str) -> int:
        return self._store.version(kind, feature_id)

    def objections(self, order_id: str | None = None) -> pd.DataFrame:
        """The objections log (names of residents: not for a ward member)."""
        self.require("read_exact_points", "read the objections log")
        return self._store.objections(order_id)

    def case_records(self, order_id: str, what: str) -> pd.DataFrame:
        self.require("read_exact_points", "read an order's case records")
        return self._store.case_records(order_id, what)

    def imports(self) -> pd.DataFrame:
        """The import log (file names and rows: for those who import)."""
        self.require("import", "read the import log")
        return self._store.imports()  # type: ignore[attr-defined, no-any-return]

    def write_rejects(self, import_id: int, target: Path | None = None) -> Path | None:
        self.require("import", "read an import's rejected rows")
        return self._store.write_rejects(import_id, target)  # type: ignore[attr-defined, no-any-return]

    # -- writes -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[GuardedTransaction]:
        """A write of several parts: for those who import or edit."""
        if not (self.may("import") or self.may("edit")):
            self.require("import", "write to the workspace")
        with self._store.transaction() as tx:
            yield GuardedTransaction(tx, self)

    def add(self, kind: str, features: gpd.GeoDataFrame, **kw: Any) -> list[str]:
        self._check_feature_write(kind, kw.get("user"), new=features)
        return self._store.add(kind, features, **kw)

    def update(self, kind: str, feature_id: str, **kw: Any) -> None:
        self._check_feature_write(
            kind, kw.get("user"), feature_id=feature_id, attributes=kw.get("attributes")
        )
        self._store.update(kind, feature_id, **kw)

    def delete(self, kind: str, feature_ids: Sequence[str], **kw: Any) -> int:
        self._check_feature_write(kind, kw.get("user"))
        return self._store.delete(kind, feature_ids, **kw)

    def set_meta(self, key: str, value: str, **kw: Any) -> None:
        self._check_meta(key, kw.get("user"))
        self._store.set_meta(key, value, **kw)

    def add_objection(self, order_id: str, **kw: Any) -> int:
        self.require("comment")
        self._check_user(kw.get("recorded_by"))
        return self._store.add_objection(order_id, **kw)

    def add_case_record(
        self, order_id: str, what: str, record: Mapping[str, Any], *, recorded_by: str
    ) -> int:
        self.require("letters" if what == "letters" else "record_service")
        self._check_user(recorded_by)
        return self._store.add_case_record(order_id, what, record, recorded_by=recorded_by)


def open_for(
    location: str | Path,
    *,
    role: str,
    user: str | None,
    operation: str | Sequence[str] | None = None,
) -> RoleStore:
    """The workspace at ``location`` opened for ``user`` acting as ``role``."""
    return RoleStore(open_workspace(location), role=role, user=user, operation=operation)


def briefing_incidents(store: WorkspaceStore) -> gpd.GeoDataFrame:
    """The incidents the ward briefing counts, as :func:`generalise_to_blocks` gives them, from
    any store: the same counts whoever makes the briefing."""
    if isinstance(store, RoleStore):
        return store.briefing_incidents()
    own = getattr(store, "briefing_incidents", None)
    if callable(own):
        return own()  # type: ignore[no-any-return]
    return generalise_to_blocks(store.read("incidents"), store.read("premises"))


def evaluate_for_briefing(store: WorkspaceStore, order_id: str) -> Any:
    """One order's before and after, for the briefing: counted inside the data layer."""
    if isinstance(store, RoleStore):
        return store.evaluate_order(order_id)
    from .evaluation import evaluate_order

    return evaluate_order(store, order_id)


def describe() -> str:
    """The permission table in words (for ``--help`` and the README)."""
    lines = []
    for role in ROLES:
        lines.append(f"{role}: " + ", ".join(a for a in ACTIONS if may(role, a)))
    return "\n".join(lines)


__all__ = [
    "ACTIONS",
    "DB_ROLES",
    "INCIDENT_TEXT",
    "PERMISSIONS",
    "ROLES",
    "AccessDenied",
    "RoleStore",
    "briefing_incidents",
    "open_for",
    "require",
]
