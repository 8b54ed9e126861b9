"""The flags of the document commands (bodies in documents.py; letters' in letters.py)."""

from __future__ import annotations

from closuremap.cli.options import (
    Subparsers,
    case_options,
    layer_files,
    output_flags,
    run,
    text_flags,
    user_flag,
    workspace_and_order,
)

# The legal documents of a case: (command, document name in reports.legal, what it is).
LEGAL_DOCUMENTS = (
    ("notice", "notice", "the closure notice (s.76), with every content s.76(5) requires"),
    (
        "application",
        "application",
        "the application for a closure order (s.80), with the draft order",
    ),
    (
        "draft-order",
        "draft_order",
        "the draft closure order: terms, permitted access, duration, map",
    ),
    ("extension", "extension", "the application to extend an order in force (s.82)"),
    ("discharge", "discharge", "the complaint for discharge of an order (s.83)"),
    ("certificate", "certificate_of_service", "the certificate of service of the notice (s.79)"),
)


def add_exhibit(sub: Subparsers) -> None:
    p = sub.add_parser("exhibit", help="the court map exhibit PDF of an order")
    layer_files(p)
    p.add_argument("--title", help="the order's name (files mode)")
    p.add_argument("--attribution", action="append", help="a data attribution line (repeat)")
    p.add_argument("--exhibit-ref", required=True, help="e.g. AB/1")
    p.add_argument("--prepared-by", help="default: --user")
    user_flag(p)
    p.add_argument("--out", required=True, help="the PDF to write")
    p.add_argument("--paper", choices=["A4", "A3"], default="A4")
    p.add_argument("--orientation", choices=["landscape", "portrait"], default="landscape")
    p.add_argument(
        "--scale",
        type=int,
        choices=[500, 1250, 2500],
        help="default: fit, rounded to a standard scale",
    )
    p.add_argument("--atlas", action="store_true", help="add one map sheet per block")
    p.add_argument("--date", help="date on the title block (default today), YYYY-MM-DD")
    p.add_argument(
        "--version", type=int, help="version number (default: times the order was saved)"
    )
    text_flags(
        p,
        ("--evidence-from", "start of the evidence window, YYYY-MM-DD"),
        ("--evidence-to", "end of the evidence window, YYYY-MM-DD"),
    )
    output_flags(p)
    run(p, "documents", "cmd_exhibit")


def add_briefing(sub: Subparsers) -> None:
    p = sub.add_parser("briefing", help="the ward-member briefing PDF (no personal data)")
    workspace_and_order(p, every="one order (default: every order in the workspace)")
    p.add_argument("--out", required=True)
    p.add_argument("--min-count", type=int, default=5, help="counts below this show as <N")
    p.add_argument("--date", help="date on the briefing, YYYY-MM-DD (default today)")
    output_flags(p)
    run(p, "documents", "cmd_briefing")


def add_letters(sub: Subparsers) -> None:
    p = sub.add_parser("letters", help="consultation letters to every address in an order's blocks")
    workspace_and_order(p)
    p.add_argument("--out", required=True, help="the PDF of letters, one page each")
    text_flags(
        p,
        ("--recipients", "CSV of recipients (default beside the PDF)"),
        ("--template", "a text template with $fields (default: the workspace's, or the built-in)"),
    )
    p.add_argument(
        "--contact", required=True, help="whom residents contact, e.g. a team, phone and e-mail"
    )
    p.add_argument("--signatory", required=True)
    text_flags(
        p,
        ("--letterhead", "a line at the top of each letter"),
        ("--date", "date on the letters, YYYY-MM-DD (default today)"),
    )
    user_flag(p)
    output_flags(p)
    run(p, "letters", "cmd_letters")  # its own light module: see cli/letters.py


def add_service_pack(sub: Subparsers) -> None:
    p = sub.add_parser(
        "service-pack", help="the notice-service checklist of every entrance, PDF and CSV"
    )
    workspace_and_order(p)
    p.add_argument("--out", required=True)
    text_flags(
        p,
        ("--csv", "the checklist as CSV (default beside the PDF)"),
        ("--date", "YYYY-MM-DD (default today)"),
    )
    output_flags(p)
    run(p, "documents", "cmd_service_pack")


def add_legal_documents(sub: Subparsers) -> None:
    for name, document, what in LEGAL_DOCUMENTS:
        p = sub.add_parser(name, help=f"{what}; PDF")
        case_options(p)
        p.add_argument("--docx", help="also a Word copy to edit before signing")
        run(p, "documents", "cmd_document", document=document)


def add_bundle(sub: Subparsers) -> None:
    p = sub.add_parser(
        "bundle", help="the court bundle: one paginated PDF with index, bookmarks and SHA-256s"
    )
    case_options(p)
    p.add_argument(
        "--docx-dir",
        help="also Word copies of the notice, application, draft order "
        "and certificate, in this folder",
    )
    run(p, "documents", "cmd_bundle")


def add_record_service(sub: Subparsers) -> None:
    p = sub.add_parser(
        "record-service",
        help="record where and when the notice was fixed, from the filled-in "
        "service-pack checklist (CSV)",
    )
    workspace_and_order(p)
    p.add_argument(
        "--csv",
        required=True,
        help="the checklist with time_fixed, officer and photo_ref filled in",
    )
    user_flag(p)
    output_flags(p)
    run(p, "documents", "cmd_record_service")
