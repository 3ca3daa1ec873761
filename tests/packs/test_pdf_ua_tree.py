"""PDF/UA checks on small structure trees built here with pikepdf (no LibreOffice): the page an element starts on
when only its content names one, the RoleMap, table header cells under nested rows, and the figure alt text put
back by position and checked as put back. The Board paper's own PDFs are checked in test_pdf_ua.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pikepdf

from reporting.packs.pdf_ua import check_pdf, restore_and_check

Node = dict[str, Any]


def _pdf(tmp_path: Path, kids: list[Node], role_map: dict[str, str] | None = None, pages: int = 3) -> Path:
    """A PDF that passes every document-level check, with `kids` under its Document element. A kid is a dict:
    "S" the role, "page" its /Pg (1-based, or absent), "mcr" a page named only by a marked-content reference,
    "alt" its /Alt, "kids" its children."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()

    def element(spec: Node) -> pikepdf.Dictionary:
        node = pikepdf.Dictionary(S=pikepdf.Name(str(spec["S"])))
        content: list[object] = [element(k) for k in spec.get("kids", [])]
        if "page" in spec:
            node.Pg = pdf.pages[int(spec["page"]) - 1].obj
        if "mcr" in spec:
            content.insert(
                0,
                pikepdf.Dictionary(
                    Type=pikepdf.Name.MCR,
                    Pg=pdf.pages[int(spec["mcr"]) - 1].obj,
                    MCID=0,
                ),
            )
        if "alt" in spec:
            node.Alt = pikepdf.String(str(spec["alt"]))
        if content:
            node.K = pikepdf.Array(content)
        return pdf.make_indirect(node)

    tree = pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot, K=element({"S": "/Document", "kids": kids}))
    if role_map:
        tree.RoleMap = pikepdf.Dictionary({k: pikepdf.Name(v) for k, v in role_map.items()})
    pdf.Root.StructTreeRoot = pdf.make_indirect(tree)
    pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=True)
    pdf.Root.Lang = pikepdf.String("en-GB")
    pdf.Root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
    pdf.docinfo["/Title"] = pikepdf.String("A paper")
    path = tmp_path / "tree.pdf"
    pdf.save(path)
    return path


def test_a_tree_in_page_order_passes(tmp_path: Path) -> None:
    path = _pdf(
        tmp_path,
        [
            {"S": "/H1", "mcr": 1},
            {"S": "/P", "page": 1},
            {"S": "/Figure", "page": 2, "alt": "Chart of waiting times"},
            {"S": "/P", "page": 3},
        ],
    )
    assert check_pdf(path) == []


def test_an_element_without_a_page_starts_on_the_first_page_its_content_names(tmp_path: Path) -> None:
    """The heading has no /Pg and nothing to inherit (the Document has none): its page is the one its marked
    content names, three levels down, so the paragraph on page 1 after it is out of order."""
    deep = {"S": "/Span", "kids": [{"S": "/Span", "kids": [{"S": "/Span", "mcr": 3}]}]}
    path = _pdf(tmp_path, [{"S": "/H1", "kids": [{"S": "/Span"}, deep]}, {"S": "/P", "page": 1}])
    (failure,) = check_pdf(path)
    assert failure.check == "reading order" and failure.page == 1
    assert failure.detail == "a P on page 1 comes after content on page 3 in the tag order"


def test_an_inherited_page_wins_over_the_content_of_an_element(tmp_path: Path) -> None:
    """A paragraph without /Pg under a section on page 1 is on page 1, whatever page its own content names."""
    path = _pdf(tmp_path, [{"S": "/Sect", "page": 1, "kids": [{"S": "/P", "mcr": 3}]}, {"S": "/P", "page": 2}])
    assert check_pdf(path) == []


def test_table_header_cells_are_found_under_nested_rows_and_through_the_role_map(tmp_path: Path) -> None:
    header = {"S": "/THead", "kids": [{"S": "/TR", "kids": [{"S": "/HeaderCell"}, {"S": "/HeaderCell"}]}]}
    body = {"S": "/TBody", "kids": [{"S": "/TR", "kids": [{"S": "/TD"}, {"S": "/TD"}]}]}
    path = _pdf(
        tmp_path,
        [{"S": "/H1", "page": 1}, {"S": "/Table", "page": 2, "kids": [header, body]}],
        role_map={"/HeaderCell": "/Cell", "/Cell": "/TH"},
    )
    assert check_pdf(path) == []


def test_a_table_whose_header_cell_follows_it_has_none(tmp_path: Path) -> None:
    """A TH after the table (a sibling, not a descendant) is not the table's: its cells end where the tree
    climbs back to the table's level."""
    rows = [{"S": "/TR", "kids": [{"S": "/TD"}, {"S": "/TD"}, {"S": "/TD"}]}]
    path = _pdf(
        tmp_path,
        [
            {"S": "/H1", "page": 1},
            {"S": "/Table", "page": 2, "kids": rows},
            {"S": "/Div", "page": 2, "kids": [{"S": "/TH"}]},
        ],
    )
    (failure,) = check_pdf(path)
    assert (failure.check, failure.page) == ("table header cells", 2)
    assert failure.detail == "a table of 3 cells has no header cell (TH)"


def test_a_role_map_cycle_ends_and_is_checked_as_written(tmp_path: Path) -> None:
    path = _pdf(
        tmp_path, [{"S": "/Title", "page": 1}, {"S": "/H3", "page": 1}], role_map={"/Title": "/Big", "/Big": "/Title"}
    )
    (failure,) = check_pdf(path)
    assert (failure.check, failure.detail) == ("heading order", "the first heading is H3, not H1")


def test_figure_alt_text_lands_on_the_figures_without_it_in_reading_order(tmp_path: Path) -> None:
    figures = [
        {"S": "/Figure", "page": 1},
        {"S": "/Figure", "page": 1, "alt": "A picture's own alt text"},
        {"S": "/Sect", "page": 2, "kids": [{"S": "/Figure"}]},
    ]
    path = _pdf(tmp_path, [{"S": "/H1", "page": 1}, *figures])
    missing = check_pdf(path)
    assert [(f.check, f.page) for f in missing] == [("figure alt text", 1), ("figure alt text", 2)]
    before = path.read_bytes()
    assert restore_and_check(path, ["only one"]) == (0, missing) and path.read_bytes() == before  # counts differ
    assert restore_and_check(path, []) == (0, missing) and path.read_bytes() == before
    assert restore_and_check(path, ["First chart", "Second chart"]) == (2, [])  # checked as restored
    with pikepdf.open(path) as pdf:
        found = []

        def walk(node: pikepdf.Object) -> None:
            for kid in list(node) if isinstance(node, pikepdf.Array) else [node]:
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    if kid.S == pikepdf.Name.Figure:
                        found.append(str(kid.Alt))
                    walk(kid.get("/K", pikepdf.Array()))

        walk(pdf.Root.StructTreeRoot.K)
    assert found == ["First chart", "A picture's own alt text", "Second chart"]
    assert check_pdf(path) == []


def test_restore_and_check_finds_what_check_pdf_finds_in_the_file_it_saves(tmp_path: Path) -> None:
    """Checked in memory as the alt text is put back: the same failures as reading the saved file again."""
    path = _pdf(
        tmp_path,
        [
            {"S": "/H2", "page": 2},
            {"S": "/Figure", "page": 2},
            {"S": "/Table", "page": 1, "kids": [{"S": "/TR", "kids": [{"S": "/TD"}]}]},
            {"S": "/Figure", "page": 3, "alt": "image7.png"},
        ],
    )
    restored, failures = restore_and_check(path, ["Chart of referrals"])
    assert restored == 1 and failures == check_pdf(path)
    assert [f.check for f in failures] == ["heading order", "figure alt text", "table header cells", "reading order"]
