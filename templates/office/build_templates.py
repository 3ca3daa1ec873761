"""Build the default NHS-style Office templates: ``board.pptx`` (slides) and ``paper.docx`` (Word papers).

Run from the repository root::

    .venv/bin/python templates/office/build_templates.py            # writes templates/office/*.{pptx,docx}
    .venv/bin/python templates/office/build_templates.py --out DIR  # writes DIR/board.pptx, DIR/paper.docx

Branding: NHS Blue #005EB8, NHS Dark Blue #003087, NHS Black #231F20 for text, NHS Dark Grey #425563 for
footers, NHS Pale Grey #E8EDEE / #D8DDE0 for banding and rules; Arial everywhere; white backgrounds. All
text colours meet WCAG AA on white (#005EB8 6.2:1, #003087 12.6:1, #231F20 16:1, #425563 7.6:1; white on
#005EB8 6.2:1 for table headers).

An analyst may replace either file with their own corporate template. The renderers find everything BY NAME
(layouts) or BY TYPE/IDX (placeholders) or BY STYLE NAME (Word); ``reporting.packs.office_templates`` raises
a ConfigError naming the file, the missing name and what is available when a replacement lacks one.

board.pptx -- what the PowerPoint renderer relies on
----------------------------------------------------
16:9 (13.333 x 7.5 in, 12192000 x 6858000 EMU), one slide master, theme "NHS Board" (major and minor font
Arial; dk1 #231F20, dk2 #003087, accent1 #005EB8). The master draws a thin NHS-blue bar along the top and a
pale grey rule above the footer area. Six layouts, in this order, named exactly:

    layout name         placeholders (idx: type)
    "Title Slide"       0: title (ctrTitle)   1: subTitle   10: dt   11: ftr   12: sldNum
    "Section Header"    0: title              1: body       10: dt   11: ftr   12: sldNum
    "Title and Content" 0: title              1: obj (content: text, table, chart, picture)
                        10: dt   11: ftr   12: sldNum
    "Title Only"        0: title              10: dt   11: ftr   12: sldNum
    "Two Content"       0: title              1: obj (left)   2: obj (right)   10: dt   11: ftr   12: sldNum
    "Blank"             10: dt   11: ftr   12: sldNum

idx 0 is always the title (``slide.shapes.title``); 1 (and 2) the body/content; 10/11/12 date, footer and
slide number -- the same numbers PowerPoint itself uses, so most corporate masters work unchanged.
python-pptx does NOT copy date/footer/slide-number placeholders onto a new slide (PowerPoint's
"Header & Footer" dialog does that); the renderer must clone them from the layout itself (idx 10-12) and
fill in the footer text (classification, pack title, period) and a ``slidenum`` field.
The master's own placeholders use idx 1 (body), 2 (dt), 3 (ftr) and 4 (sldNum), as PowerPoint does.
A notes master (Arial) is included so speaker notes do not fall back to python-pptx's Calibri one.
The python-pptx default layouts that are not needed (Comparison, Content with Caption, Picture with
Caption, and the two vertical-text layouts) are removed.

paper.docx -- what the Word renderer relies on
----------------------------------------------
A4 portrait, 2 cm margins, header/footer 1 cm from the edge, language en-GB (document defaults, theme font
language and core properties). Paragraph styles: "Normal" (Arial 11), "Title", "Subtitle", "Heading 1",
"Heading 2", "Heading 3" (outline levels 0, 1, 2, so a TOC field picks them up; 4-9 keep Word's levels),
"Caption", "List Bullet", "TOC Heading", "toc 1"-"toc 3" (Word's own names; python-docx has no UI alias
for them, so look them up as "toc 1"), "Header", "Footer"; table styles "Table Grid" and "NHS Table"
(NHS-blue header row in bold white marked to repeat, pale grey banded rows, bold first column, thin
rules); Word's other built-in styles are kept and resolve to Arial (theme fonts are stripped). The
default header and footer each hold one empty paragraph (styles "Header"/"Footer", centre and right tab
stops at 8.5 cm and 17 cm) for the renderer to fill. The body is empty apart from the section properties.

Determinism
-----------
Running the script twice gives byte-identical files with the same python-pptx/python-docx/lxml versions:
core properties (dates, revision, author) are fixed, extended properties are rewritten, the stale
thumbnails of the libraries' default templates are dropped, and the zip is rewritten with fixed entry
timestamps (1980-01-01), fixed permissions and the libraries' part order. A different library version may
serialise XML differently (namespace declarations, attribute order), so the bytes can change after an
upgrade even though the content does not. Nothing else is known to be unstable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import zipfile
from pathlib import Path

from lxml import etree

HERE = Path(__file__).resolve().parent

NHS_BLUE = "005EB8"
NHS_DARK_BLUE = "003087"
NHS_BLACK = "231F20"
NHS_DARK_GREY = "425563"
NHS_MID_GREY = "768692"
NHS_PALE_GREY = "E8EDEE"
NHS_RULE_GREY = "D8DDE0"
NHS_LIGHT_BLUE = "41B6E6"
NHS_GREEN = "007F3B"
NHS_WARM_YELLOW = "FFB81C"
NHS_RED = "DA291C"
NHS_PURPLE = "330072"
FONT = "Arial"

FIXED_TIME = dt.datetime(2026, 1, 1, 0, 0, 0)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
AUTHOR = "reporting (templates/office/build_templates.py)"

A = "http://schemas.openxmlformats.org/drawingml/2006/main"
P = "http://schemas.openxmlformats.org/presentationml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
RT_THEME = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme"
RT_THUMBNAIL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail"
RT_STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
NSDECL = f'xmlns:a="{A}" xmlns:r="{R}" xmlns:p="{P}"'

EMU_PER_IN = 914400


def emu(inches: float) -> int:
    return round(inches * EMU_PER_IN)


# ----------------------------------------------------------------------------------------------------------
# shared helpers
# ----------------------------------------------------------------------------------------------------------


def normalise_zip(data: bytes) -> bytes:
    """Rewrite an OOXML zip with fixed timestamps and permissions, keeping the entry order."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            fixed.create_system = 0
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def fix_core_properties(props, title: str, subject: str, language: str | None) -> None:
    props.title = title
    props.subject = subject
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.comments = "Default template; regenerate with templates/office/build_templates.py"
    props.keywords = "NHS; template"
    props.category = "template"
    props.revision = 1
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    if language is not None:
        props.language = language


def app_xml(application: str, extra: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f"<Application>{application}</Application>{extra}<DocSecurity>0</DocSecurity>"
        "<ScaleCrop>false</ScaleCrop><Company></Company><LinksUpToDate>false</LinksUpToDate>"
        "<SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged>"
        "<AppVersion>16.0000</AppVersion></Properties>"
    ).encode()


def restyle_theme(blob: bytes, name: str) -> bytes:
    """NHS colour scheme and Arial fonts in a DrawingML theme part (PowerPoint or Word)."""
    root = etree.fromstring(blob)
    ns = {"a": A}
    root.set("name", name)
    scheme = root.find("a:themeElements/a:clrScheme", ns)
    scheme.set("name", "NHS")
    colours = {
        "dk1": NHS_BLACK,
        "lt1": "FFFFFF",
        "dk2": NHS_DARK_BLUE,
        "lt2": NHS_PALE_GREY,
        "accent1": NHS_BLUE,
        "accent2": NHS_DARK_BLUE,
        "accent3": NHS_LIGHT_BLUE,
        "accent4": NHS_GREEN,
        "accent5": NHS_WARM_YELLOW,
        "accent6": NHS_RED,
        "hlink": NHS_BLUE,
        "folHlink": NHS_PURPLE,
    }
    for slot, hex_ in colours.items():
        element = scheme.find(f"a:{slot}", ns)
        for child in list(element):
            element.remove(child)
        etree.SubElement(element, f"{{{A}}}srgbClr", val=hex_)
    fonts = root.find("a:themeElements/a:fontScheme", ns)
    fonts.set("name", "NHS Arial")
    for which in ("majorFont", "minorFont"):
        group = fonts.find(f"a:{which}", ns)
        group.find("a:latin", ns).set("typeface", FONT)
        for script in group.findall("a:font", ns):  # per-script fallbacks: keep only the ones Arial cannot cover
            if script.get("script") in {"Latn", "Cyrl", "Grek", "Hebr", "Arab"}:
                script.set("typeface", FONT)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def theme_part(part):
    for rel in part.rels.values():
        if rel.reltype == RT_THEME:
            return rel.target_part
    raise LookupError("no theme part")


# ----------------------------------------------------------------------------------------------------------
# PowerPoint
# ----------------------------------------------------------------------------------------------------------

SLIDE_W, SLIDE_H = 12192000, 6858000
MARGIN = emu(0.5)
CONTENT_W = SLIDE_W - 2 * MARGIN
FOOT_Y, FOOT_H = emu(6.98), emu(0.36)
TITLE_BOX = (MARGIN, emu(0.32), CONTENT_W, emu(0.9))
BODY_BOX = (MARGIN, emu(1.42), CONTENT_W, emu(5.3))
FTR_BOX = (MARGIN, FOOT_Y, emu(7.7), FOOT_H)
DT_BOX = (emu(8.3), FOOT_Y, emu(3.3), FOOT_H)
NUM_BOX = (emu(11.733), FOOT_Y, emu(1.1), FOOT_H)

LAYOUT_ORDER = ["Title Slide", "Section Header", "Title and Content", "Title Only", "Two Content", "Blank"]
LAYOUT_TYPES = {
    "Title Slide": "title",
    "Section Header": "secHead",
    "Title and Content": "obj",
    "Title Only": "titleOnly",
    "Two Content": "twoObj",
    "Blank": "blank",
}


def _xfrm(box) -> str:
    x, y, cx, cy = box
    return f'<a:xfrm><a:off x="{x}" y="{y}"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'


def _run_props(
    size: int | None = None,
    colour: str | None = None,
    bold: bool | None = None,
    scheme: str | None = None,
    tag: str = "defRPr",
) -> str:
    attrs = f' sz="{size}"' if size else ""
    if bold is not None:
        attrs += f' b="{int(bold)}"'
    fill = ""
    if colour:
        fill = f'<a:solidFill><a:srgbClr val="{colour}"/></a:solidFill>'
    elif scheme:
        fill = f'<a:solidFill><a:schemeClr val="{scheme}"/></a:solidFill>'
    return f"<a:{tag}{attrs}>{fill}</a:{tag}>" if fill else f"<a:{tag}{attrs}/>"


def _placeholder(
    shape_id: int, name: str, ph: str, box=None, body_pr: str = "<a:bodyPr/>", lst_style: str = "", text: str = ""
) -> str:
    sp_pr = f"<p:spPr>{_xfrm(box)}</p:spPr>" if box else "<p:spPr/>"
    paragraphs = text or '<a:p><a:endParaRPr lang="en-GB"/></a:p>'
    return (
        f'<p:sp><p:nvSpPr><p:cNvPr id="{shape_id}" name="{name}"/><p:cNvSpPr><a:spLocks noGrp="1"/>'
        f"</p:cNvSpPr><p:nvPr>{ph}</p:nvPr></p:nvSpPr>{sp_pr}<p:txBody>{body_pr}<a:lstStyle>{lst_style}"
        f"</a:lstStyle>{paragraphs}</p:txBody></p:sp>"
    )


def _prompt(text: str) -> str:
    return f'<a:p><a:r><a:rPr lang="en-GB"/><a:t>{text}</a:t></a:r></a:p>'


def _levels_prompt() -> str:
    names = ["Click to edit text", "Second level", "Third level", "Fourth level", "Fifth level"]
    return "".join(
        f'<a:p><a:pPr lvl="{i}"/><a:r><a:rPr lang="en-GB"/><a:t>{t}</a:t></a:r></a:p>' for i, t in enumerate(names)
    )


def _rect(shape_id: int, name: str, box, colour: str | None = None, scheme: str | None = None) -> str:
    fill = f'<a:srgbClr val="{colour}"/>' if colour else f'<a:schemeClr val="{scheme}"/>'
    decorative = (
        '<a:extLst><a:ext uri="{C183D7F6-B498-43B3-948B-1728B52AA6E4}"><adec:decorative '
        'xmlns:adec="http://schemas.microsoft.com/office/drawing/2017/decorative" val="1"/></a:ext>'
        "</a:extLst>"
    )  # Office's "Mark as decorative": screen readers skip the bars and rules
    return (
        f'<p:sp><p:nvSpPr><p:cNvPr id="{shape_id}" name="{name}">{decorative}</p:cNvPr><p:cNvSpPr/>'
        f'<p:nvPr userDrawn="1"/></p:nvSpPr><p:spPr>{_xfrm(box)}<a:prstGeom prst="rect"><a:avLst/></a:prstGeom>'
        f"<a:solidFill>{fill}</a:solidFill><a:ln><a:noFill/></a:ln></p:spPr>"
        f'<p:txBody><a:bodyPr rtlCol="0" anchor="ctr"/><a:lstStyle/><a:p><a:endParaRPr lang="en-GB"/></a:p>'
        f"</p:txBody></p:sp>"
    )


def _footer_placeholders(first_id: int, master: bool, ftr_box=None) -> str:
    idx = (2, 3, 4) if master else (10, 11, 12)
    foot_style = _run_props(1000, NHS_DARK_GREY)
    body = '<a:bodyPr vert="horz" lIns="0" tIns="0" rIns="0" bIns="0" rtlCol="0" anchor="ctr"/>'
    # Layouts repeat the master's positions and styles instead of inheriting them: LibreOffice does not
    # inherit a layout footer's position from the master, and slides cloned from a layout stay self-contained.
    dt_box, num_box, ftr_box = DT_BOX, NUM_BOX, ftr_box or FTR_BOX
    dt_lst = f'<a:lvl1pPr algn="r">{foot_style}</a:lvl1pPr>'
    ftr_lst = f'<a:lvl1pPr algn="l">{foot_style}</a:lvl1pPr>'
    num_lst = f'<a:lvl1pPr algn="r">{_run_props(1000, NHS_DARK_GREY, bold=True)}</a:lvl1pPr>'
    slide_number = (
        '<a:p><a:fld id="{B6F15528-21DE-4FAA-801E-634DDDAF4B2B}" type="slidenum">'
        '<a:rPr lang="en-GB"/><a:t>&#8249;#&#8250;</a:t></a:fld><a:endParaRPr lang="en-GB"/></a:p>'
    )
    return (
        _placeholder(first_id, "Date Placeholder", f'<p:ph type="dt" sz="half" idx="{idx[0]}"/>', dt_box, body, dt_lst)
        + _placeholder(
            first_id + 1,
            "Footer Placeholder",
            f'<p:ph type="ftr" sz="quarter" idx="{idx[1]}"/>',
            ftr_box,
            body,
            ftr_lst,
        )
        + _placeholder(
            first_id + 2,
            "Slide Number Placeholder",
            f'<p:ph type="sldNum" sz="quarter" idx="{idx[2]}"/>',
            num_box,
            body,
            num_lst,
            slide_number,
        )
    )


def _sp_tree(shapes: str) -> str:
    return (
        '<p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>'
        '<p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/>'
        f'<a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>{shapes}</p:spTree>'
    )


def _text_styles() -> str:
    """Master title/body/other text styles: Arial (theme +mj/+mn), NHS colours, NHS-blue bullets."""
    common = 'rtl="0" eaLnBrk="1" latinLnBrk="0" hangingPunct="1"'
    fonts = '<a:latin typeface="+mn-lt"/><a:ea typeface="+mn-ea"/><a:cs typeface="+mn-cs"/>'
    title = (
        f'<p:titleStyle><a:lvl1pPr algn="l" defTabSz="914400" {common}><a:lnSpc><a:spcPct val="90000"/>'
        '</a:lnSpc><a:spcBef><a:spcPct val="0"/></a:spcBef><a:buNone/><a:defRPr sz="2800" b="1" kern="1200">'
        '<a:solidFill><a:schemeClr val="tx2"/></a:solidFill><a:latin typeface="+mj-lt"/>'
        '<a:ea typeface="+mj-ea"/><a:cs typeface="+mj-cs"/></a:defRPr></a:lvl1pPr></p:titleStyle>'
    )
    sizes = [2000, 1800, 1600, 1400, 1400, 1400, 1400, 1400, 1400]
    bullets = ["&#8226;", "&#8211;", "&#8226;", "&#8211;", "&#8226;", "&#8226;", "&#8226;", "&#8226;", "&#8226;"]
    body_levels = []
    for i, (size, char) in enumerate(zip(sizes, bullets, strict=True)):
        mar = 285750 + i * 342900
        body_levels.append(
            f'<a:lvl{i + 1}pPr marL="{mar}" indent="-285750" algn="l" defTabSz="914400" {common}>'
            '<a:lnSpc><a:spcPct val="100000"/></a:lnSpc>'
            f'<a:spcBef><a:spcPts val="{900 if i == 0 else 400}"/></a:spcBef>'
            f'<a:buClr><a:schemeClr val="accent1"/></a:buClr><a:buFont typeface="Arial"/><a:buChar char="{char}"/>'
            f'<a:defRPr sz="{size}" kern="1200"><a:solidFill><a:schemeClr val="tx1"/></a:solidFill>{fonts}'
            f"</a:defRPr></a:lvl{i + 1}pPr>"
        )
    other_levels = "".join(
        f'<a:lvl{i + 1}pPr marL="{i * 457200}" algn="l" defTabSz="914400" {common}><a:defRPr sz="1800" kern="1200">'
        f'<a:solidFill><a:schemeClr val="tx1"/></a:solidFill>{fonts}</a:defRPr></a:lvl{i + 1}pPr>'
        for i in range(9)
    )
    return (
        f"<p:txStyles>{title}<p:bodyStyle>{''.join(body_levels)}</p:bodyStyle>"
        f'<p:otherStyle><a:defPPr><a:defRPr lang="en-GB"/></a:defPPr>{other_levels}</p:otherStyle></p:txStyles>'
    )


def _master_csld() -> str:
    title = _placeholder(
        2,
        "Title Placeholder",
        '<p:ph type="title"/>',
        TITLE_BOX,
        '<a:bodyPr vert="horz" lIns="0" tIns="45720" rIns="0" bIns="45720" rtlCol="0" anchor="b">'
        "<a:normAutofit/></a:bodyPr>",
        text=_prompt("Click to edit the title"),
    )
    body = _placeholder(
        3,
        "Text Placeholder",
        '<p:ph type="body" idx="1"/>',
        BODY_BOX,
        '<a:bodyPr vert="horz" lIns="0" tIns="45720" rIns="0" bIns="45720" rtlCol="0"><a:normAutofit/></a:bodyPr>',
        text=_levels_prompt(),
    )
    bar = _rect(7, "NHS blue bar", (0, 0, SLIDE_W, emu(0.09)), scheme="accent1")
    rule = _rect(8, "Footer rule", (MARGIN, emu(6.9), CONTENT_W, 12700), colour=NHS_RULE_GREY)
    shapes = bar + rule + title + body + _footer_placeholders(4, master=True)
    return (
        f'<p:cSld xmlns:a="{A}" xmlns:p="{P}"><p:bg><p:bgPr><a:solidFill><a:schemeClr val="bg1"/></a:solidFill>'
        f"<a:effectLst/></p:bgPr></p:bg>{_sp_tree(shapes)}</p:cSld>"
    )


def _layout_xml(name: str) -> str:
    """One complete <p:sldLayout> element for the named layout."""
    footers = _footer_placeholders(20, master=False)
    title = _placeholder(2, "Title", '<p:ph type="title"/>', text=_prompt("Click to edit the title"))
    show_master = True
    if name == "Title Slide":
        show_master = False
        band = _rect(30, "NHS blue band", (0, 0, emu(0.42), SLIDE_H), scheme="accent1")
        accent = _rect(31, "Title rule", (emu(1.0), emu(4.12), emu(1.6), emu(0.07)), scheme="accent1")
        title = _placeholder(
            2,
            "Title",
            '<p:ph type="ctrTitle"/>',
            (emu(1.0), emu(1.5), emu(11.4), emu(2.5)),
            '<a:bodyPr anchor="b"><a:normAutofit/></a:bodyPr>',
            f'<a:lvl1pPr algn="l">{_run_props(4000, bold=True)}</a:lvl1pPr>',
            _prompt("Click to edit the pack title"),
        )
        sub = _placeholder(
            3,
            "Subtitle",
            '<p:ph type="subTitle" idx="1"/>',
            (emu(1.0), emu(4.35), emu(11.4), emu(1.6)),
            "<a:bodyPr><a:normAutofit/></a:bodyPr>",
            f'<a:lvl1pPr marL="0" indent="0" algn="l"><a:spcBef><a:spcPts val="0"/></a:spcBef>'
            f"<a:buNone/>{_run_props(2000, scheme='accent1')}</a:lvl1pPr>"
            f'<a:lvl2pPr marL="0" indent="0" algn="l"><a:buNone/>{_run_props(1600, NHS_DARK_GREY)}'
            "</a:lvl2pPr>",
            _prompt("Audience, period, organisation"),
        )
        footers = _footer_placeholders(20, master=False, ftr_box=(emu(1.0), FOOT_Y, emu(7.2), FOOT_H))
        shapes = band + accent + title + sub + footers
    elif name == "Section Header":
        bar = _rect(30, "Section bar", (MARGIN, emu(2.3), emu(0.12), emu(2.6)), scheme="accent1")
        title = _placeholder(
            2,
            "Title",
            '<p:ph type="title"/>',
            (emu(0.85), emu(2.3), emu(11.9), emu(1.5)),
            '<a:bodyPr anchor="b"><a:normAutofit/></a:bodyPr>',
            f'<a:lvl1pPr algn="l">{_run_props(3600, bold=True)}</a:lvl1pPr>',
            _prompt("Section title"),
        )
        body = _placeholder(
            3,
            "Text",
            '<p:ph type="body" idx="1"/>',
            (emu(0.85), emu(3.9), emu(11.9), emu(1.0)),
            '<a:bodyPr anchor="t"><a:normAutofit/></a:bodyPr>',
            f'<a:lvl1pPr marL="0" indent="0"><a:spcBef><a:spcPts val="0"/></a:spcBef><a:buNone/>'
            f"{_run_props(2000, NHS_DARK_GREY)}</a:lvl1pPr>",
            _prompt("Section summary"),
        )
        shapes = bar + title + body + footers
    elif name == "Title and Content":
        body = _placeholder(3, "Content", '<p:ph idx="1"/>', text=_levels_prompt())
        shapes = title + body + footers
    elif name == "Title Only":
        shapes = title + footers
    elif name == "Two Content":
        gap = emu(0.333)
        half = (CONTENT_W - gap) // 2
        x, y, _, h = BODY_BOX
        small = "".join(
            f"<a:lvl{i}pPr>{_run_props(s)}</a:lvl{i}pPr>"
            for i, s in zip(range(1, 6), (1800, 1600, 1400, 1200, 1200), strict=True)
        )
        left = _placeholder(
            3, "Content Left", '<p:ph sz="half" idx="1"/>', (x, y, half, h), lst_style=small, text=_levels_prompt()
        )
        right = _placeholder(
            4,
            "Content Right",
            '<p:ph sz="half" idx="2"/>',
            (x + half + gap, y, half, h),
            lst_style=small,
            text=_levels_prompt(),
        )
        shapes = title + left + right + footers
    elif name == "Blank":
        shapes = footers
    else:  # pragma: no cover - LAYOUT_ORDER is the list above
        raise ValueError(name)
    show = "" if show_master else ' showMasterSp="0"'
    return (
        f'<p:sldLayout {NSDECL} type="{LAYOUT_TYPES[name]}" preserve="1"{show}>'
        f'<p:cSld name="{name}">{_sp_tree(shapes)}</p:cSld>'
        "<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>"
    )


def build_pptx(path: Path) -> None:
    from pptx import Presentation
    from pptx.opc.packuri import PackURI
    from pptx.oxml import parse_xml

    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_W, SLIDE_H
    sld_sz = prs.part._element.find(f"{{{P}}}sldSz")
    sld_sz.attrib.pop("type", None)  # 16:9 custom size, as PowerPoint writes "Widescreen"
    for def_rpr in prs.part._element.iter(f"{{{A}}}defRPr"):
        if def_rpr.get("lang"):
            def_rpr.set("lang", "en-GB")  # proofing language of new text boxes

    master = prs.slide_master
    by_name = {layout.name: layout for layout in prs.slide_layouts}
    for layout in list(prs.slide_layouts):
        if layout.name not in LAYOUT_ORDER:
            prs.slide_layouts.remove(layout)
    missing = set(LAYOUT_ORDER) - set(by_name)
    if missing:  # pragma: no cover - python-pptx's default deck has all six
        raise RuntimeError(f"python-pptx default template lacks {sorted(missing)}")

    # master: background, decoration, placeholders, text styles
    m_el = master._element
    m_el.replace(m_el.find(f"{{{P}}}cSld"), parse_xml(_master_csld()))
    m_el.replace(
        m_el.find(f"{{{P}}}txStyles"), parse_xml(f"<p:txStyles {NSDECL}>" + _text_styles()[len("<p:txStyles>") :])
    )
    hf = m_el.find(f"{{{P}}}hf")
    if hf is not None:
        m_el.remove(hf)

    # layouts: rewrite each one and put them in LAYOUT_ORDER (and partname order)
    id_list = m_el.find(f"{{{P}}}sldLayoutIdLst")
    ids_by_rid = {entry.get(f"{{{R}}}id"): entry for entry in id_list}
    for entry in list(id_list):
        id_list.remove(entry)
    for number, name in enumerate(LAYOUT_ORDER, start=1):
        layout = by_name[name]
        new = parse_xml(_layout_xml(name))
        el = layout._element
        for child in list(el):
            el.remove(child)
        for key in list(el.attrib):
            del el.attrib[key]
        for key, value in new.attrib.items():
            el.set(key, value)
        for child in list(new):
            el.append(child)
        layout.part.partname = PackURI(f"/ppt/slideLayouts/slideLayout{number}.xml")
        rid = next(r.rId for r in master.part.rels.values() if r.target_part is layout.part)
        entry = ids_by_rid[rid]
        entry.set("id", str(2147483649 + number - 1))
        id_list.append(entry)

    theme = theme_part(master.part)
    theme._blob = restyle_theme(theme.blob, "NHS Board")

    notes_master = prs.notes_master  # created from python-pptx's own (Calibri) template
    for element in notes_master._element.iter():
        if element.get("lang") == "en-US":
            element.set("lang", "en-GB")
    notes_theme = theme_part(notes_master.part)
    notes_theme._blob = restyle_theme(notes_theme.blob, "NHS Board Notes")

    for rid, rel in list(prs.part.rels.items()):
        if rel.reltype.endswith("/printerSettings"):  # a Mac printer blob from python-pptx's default deck
            prs.part.drop_rel(rid)
    pkg = prs.part.package
    for rid, rel in list(pkg._rels.items()):
        if rel.reltype == RT_THUMBNAIL:
            pkg._rels.pop(rid)
    for part in pkg.iter_parts():
        if part.partname == "/docProps/app.xml":
            part._blob = app_xml(
                "Microsoft Office PowerPoint",
                "<PresentationFormat>Widescreen</PresentationFormat><Slides>0</Slides>"
                "<Notes>0</Notes><HiddenSlides>0</HiddenSlides>"
                '<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>'
                "Theme</vt:lpstr></vt:variant><vt:variant><vt:i4>1</vt:i4></vt:variant>"
                '</vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="1" '
                'baseType="lpstr"><vt:lpstr>NHS Board</vt:lpstr></vt:vector></TitlesOfParts>',
            )
    fix_core_properties(prs.core_properties, "NHS board pack template", "Board and executive packs", "en-GB")

    buffer = io.BytesIO()
    prs.save(buffer)
    path.write_bytes(normalise_zip(buffer.getvalue()))


# ----------------------------------------------------------------------------------------------------------
# Word
# ----------------------------------------------------------------------------------------------------------


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def _set_style(
    styles_el,
    style_id: str,
    name: str,
    *,
    kind: str = "paragraph",
    based_on: str | None = "Normal",
    next_style: str | None = None,
    ppr: str = "",
    rpr: str = "",
    extra: str = "",
    link: str | None = None,
    ui_priority: int | None = None,
    qformat: bool = True,
    semi_hidden: bool = False,
) -> None:
    """Replace (or add) one w:style with exactly the given properties."""
    parts = [f'<w:style xmlns:w="{W}" w:type="{kind}" w:styleId="{style_id}"><w:name w:val="{name}"/>']
    if based_on:
        parts.append(f'<w:basedOn w:val="{based_on}"/>')
    if next_style:
        parts.append(f'<w:next w:val="{next_style}"/>')
    if link:
        parts.append(f'<w:link w:val="{link}"/>')
    if ui_priority is not None:
        parts.append(f'<w:uiPriority w:val="{ui_priority}"/>')
    if semi_hidden:
        parts.append("<w:semiHidden/><w:unhideWhenUsed/>")
    if qformat:
        parts.append("<w:qFormat/>")
    if ppr:
        parts.append(f"<w:pPr>{ppr}</w:pPr>")
    if rpr:
        parts.append(f"<w:rPr>{rpr}</w:rPr>")
    parts.append(extra + "</w:style>")
    new = etree.fromstring("".join(parts))
    old = styles_el.find(f'{_w("style")}[@{_w("styleId")}="{style_id}"]')
    if old is not None:
        old.addprevious(new)
        styles_el.remove(old)
    else:
        styles_el.append(new)


def _rpr(size_pt: float | None = None, colour: str | None = None, bold: bool = False, italic: bool = False) -> str:
    out = f'<w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" w:cs="{FONT}"/>'
    if bold:
        out += "<w:b/><w:bCs/>"
    if italic:
        out += "<w:i/><w:iCs/>"
    if colour:
        out += f'<w:color w:val="{colour}"/>'
    if size_pt:
        out += f'<w:sz w:val="{round(size_pt * 2)}"/><w:szCs w:val="{round(size_pt * 2)}"/>'
    return out


def _strip_theme_fonts(styles_el) -> None:
    """Theme font attributes override w:ascii etc.; drop them so every style resolves to Arial."""
    theme_attrs = [_w(a) for a in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme")]
    for rfonts in styles_el.iter(_w("rFonts")):
        for attr in theme_attrs:
            rfonts.attrib.pop(attr, None)
        if not rfonts.attrib:
            rfonts.getparent().remove(rfonts)


def build_docx(path: Path) -> None:
    import docx
    from docx.shared import Cm

    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin = section.bottom_margin = section.left_margin = section.right_margin = Cm(2)
    section.header_distance = section.footer_distance = Cm(1)
    section.gutter = 0
    for hf in (section.header, section.footer):
        hf.is_linked_to_previous = False  # creates header1.xml / footer1.xml, one empty styled paragraph

    styles_el = doc.styles.element
    _strip_theme_fonts(styles_el)
    defaults = styles_el.find(_w("docDefaults"))
    defaults.getparent().replace(
        defaults,
        etree.fromstring(
            f'<w:docDefaults xmlns:w="{W}"><w:rPrDefault><w:rPr>'
            f'<w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:eastAsia="{FONT}" w:cs="{FONT}"/>'
            f'<w:color w:val="{NHS_BLACK}"/><w:sz w:val="22"/><w:szCs w:val="22"/>'
            '<w:lang w:val="en-GB" w:eastAsia="en-GB" w:bidi="ar-SA"/>'
            '</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="160" w:line="264" w:lineRule="auto"/>'
            "</w:pPr></w:pPrDefault></w:docDefaults>"
        ),
    )

    keep = "<w:keepNext/><w:keepLines/>"
    # Normal names Arial 11 but no colour: in Word and LibreOffice a paragraph style's run properties beat a
    # table style's, so a colour on Normal would turn the white header text of "NHS Table" black. The text
    # colour (NHS black) therefore lives in the document defaults, below table styles.
    _set_style(styles_el, "Normal", "Normal", based_on=None, ui_priority=0, rpr=_rpr(11))
    _set_style(
        styles_el,
        "Title",
        "Title",
        next_style="Subtitle",
        link="TitleChar",
        ui_priority=10,
        ppr='<w:spacing w:before="0" w:after="240" w:line="240" w:lineRule="auto"/><w:contextualSpacing/>',
        rpr=_rpr(28, NHS_DARK_BLUE, bold=True),
    )
    _set_style(
        styles_el,
        "TitleChar",
        "Title Char",
        kind="character",
        based_on="DefaultParagraphFont",
        link="Title",
        ui_priority=10,
        qformat=False,
        rpr=_rpr(28, NHS_DARK_BLUE, bold=True),
    )
    _set_style(
        styles_el,
        "Subtitle",
        "Subtitle",
        next_style="Normal",
        link="SubtitleChar",
        ui_priority=11,
        ppr='<w:spacing w:before="0" w:after="360"/>',
        rpr=_rpr(16, NHS_BLUE),
    )
    _set_style(
        styles_el,
        "SubtitleChar",
        "Subtitle Char",
        kind="character",
        based_on="DefaultParagraphFont",
        link="Subtitle",
        ui_priority=11,
        qformat=False,
        rpr=_rpr(16, NHS_BLUE),
    )
    headings = {1: (18, NHS_DARK_BLUE, 480, 160), 2: (14, NHS_BLUE, 320, 120), 3: (12, NHS_DARK_BLUE, 240, 80)}
    for level, (size, colour, before, after) in headings.items():
        _set_style(
            styles_el,
            f"Heading{level}",
            f"heading {level}",
            next_style="Normal",
            link=f"Heading{level}Char",
            ui_priority=9,
            semi_hidden=level > 1,
            ppr=f'{keep}<w:spacing w:before="{before}" w:after="{after}"/><w:outlineLvl w:val="{level - 1}"/>',
            rpr=_rpr(size, colour, bold=True),
        )
        _set_style(
            styles_el,
            f"Heading{level}Char",
            f"Heading {level} Char",
            kind="character",
            based_on="DefaultParagraphFont",
            link=f"Heading{level}",
            ui_priority=9,
            qformat=False,
            rpr=_rpr(size, colour, bold=True),
        )
    for level in range(4, 10):  # keep Word's outline levels, recolour to NHS dark blue
        _set_style(
            styles_el,
            f"Heading{level}",
            f"heading {level}",
            next_style="Normal",
            link=f"Heading{level}Char",
            ui_priority=9,
            semi_hidden=True,
            ppr=f'{keep}<w:spacing w:before="200" w:after="40"/><w:outlineLvl w:val="{level - 1}"/>',
            rpr=_rpr(11, NHS_DARK_BLUE, bold=level == 4, italic=level >= 5),
        )
    _set_style(
        styles_el,
        "Caption",
        "caption",
        next_style="Normal",
        ui_priority=35,
        semi_hidden=True,
        ppr='<w:keepNext/><w:spacing w:before="120" w:after="120" w:line="240" w:lineRule="auto"/>',
        rpr=_rpr(9, NHS_DARK_BLUE, bold=True),
    )
    _set_style(
        styles_el,
        "ListBullet",
        "List Bullet",
        ui_priority=99,
        semi_hidden=True,
        ppr='<w:numPr><w:numId w:val="1"/></w:numPr><w:spacing w:after="80"/><w:contextualSpacing/>',
    )
    _set_style(
        styles_el,
        "TOCHeading",
        "TOC Heading",
        based_on="Heading1",
        next_style="Normal",
        ui_priority=39,
        semi_hidden=True,
        ppr='<w:outlineLvl w:val="9"/>',
    )
    for level, indent in ((1, 0), (2, 220), (3, 440)):
        _set_style(
            styles_el,
            f"TOC{level}",
            f"toc {level}",
            next_style="Normal",
            ui_priority=39,
            semi_hidden=True,
            ppr=f'<w:tabs><w:tab w:val="right" w:leader="dot" w:pos="9628"/></w:tabs>'
            f'<w:spacing w:after="{100 if level == 1 else 60}"/><w:ind w:left="{indent}"/>',
            rpr=_rpr(None, None, bold=level == 1),
        )
    tabs = '<w:tabs><w:tab w:val="center" w:pos="4819"/><w:tab w:val="right" w:pos="9638"/></w:tabs>'
    for name in ("Header", "Footer"):
        _set_style(
            styles_el,
            name,
            name.lower(),
            link=f"{name}Char",
            ui_priority=99,
            semi_hidden=True,
            qformat=False,
            ppr=f'{tabs}<w:spacing w:after="0" w:line="240" w:lineRule="auto"/>',
            rpr=_rpr(9, NHS_DARK_GREY),
        )
        _set_style(
            styles_el,
            f"{name}Char",
            f"{name} Char",
            kind="character",
            based_on="DefaultParagraphFont",
            link=name,
            ui_priority=99,
            qformat=False,
            rpr=_rpr(9, NHS_DARK_GREY),
        )
    grey = f'w:val="single" w:sz="4" w:space="0" w:color="{NHS_MID_GREY}"'
    _set_style(
        styles_el,
        "TableGrid",
        "Table Grid",
        kind="table",
        based_on="TableNormal",
        ui_priority=59,
        qformat=False,
        ppr='<w:spacing w:after="0" w:line="240" w:lineRule="auto"/>',
        extra=f"<w:tblPr><w:tblBorders><w:top {grey}/><w:left {grey}/><w:bottom {grey}/><w:right {grey}/>"
        f"<w:insideH {grey}/><w:insideV {grey}/></w:tblBorders></w:tblPr>",
    )
    rule = f'w:val="single" w:sz="4" w:space="0" w:color="{NHS_RULE_GREY}"'
    strong = f'w:val="single" w:sz="8" w:space="0" w:color="{NHS_BLUE}"'
    _set_style(
        styles_el,
        "NHSTable",
        "NHS Table",
        kind="table",
        based_on="TableNormal",
        ui_priority=60,
        ppr='<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>',
        rpr=_rpr(10, NHS_BLACK),
        extra=(
            f'<w:tblPr><w:tblStyleRowBandSize w:val="1"/><w:tblStyleColBandSize w:val="1"/>'
            f"<w:tblBorders><w:top {strong}/><w:bottom {strong}/><w:insideH {rule}/></w:tblBorders>"
            '<w:tblCellMar><w:top w:w="57" w:type="dxa"/><w:left w:w="85" w:type="dxa"/>'
            '<w:bottom w:w="57" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar></w:tblPr>'
            '<w:tblStylePr w:type="firstRow"><w:pPr><w:keepNext/></w:pPr>'
            '<w:rPr><w:b/><w:bCs/><w:color w:val="FFFFFF"/></w:rPr>'
            "<w:tblPr/><w:trPr><w:tblHeader/></w:trPr>"
            f'<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{NHS_BLUE}"/></w:tcPr></w:tblStylePr>'
            f'<w:tblStylePr w:type="lastRow"><w:rPr><w:b/><w:bCs/></w:rPr><w:tblPr/>'
            f"<w:tcPr><w:tcBorders><w:top {strong}/></w:tcBorders></w:tcPr></w:tblStylePr>"
            '<w:tblStylePr w:type="firstCol"><w:rPr><w:b/><w:bCs/></w:rPr></w:tblStylePr>'
            '<w:tblStylePr w:type="band1Horz"><w:tblPr/>'
            f'<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{NHS_PALE_GREY}"/></w:tcPr>'
            "</w:tblStylePr>"
        ),
    )

    # settings: British English proofing and theme-font language
    settings = doc.settings.element
    lang = settings.find(_w("themeFontLang"))
    lang.attrib.clear()
    lang.set(_w("val"), "en-GB")

    # themes and stale parts
    theme = theme_part(doc.part)
    theme._blob = restyle_theme(theme.blob, "NHS Paper")
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype == RT_STYLES_WITH_EFFECTS:  # Word 2010 duplicate of styles.xml; would be stale
            doc.part.drop_rel(rid)
    pkg_rels = doc.part.package.rels
    for rid, rel in list(pkg_rels.items()):
        if rel.reltype == RT_THUMBNAIL:
            del pkg_rels[rid]
    for part in doc.part.package.iter_parts():
        if part.partname == "/docProps/app.xml":
            part._blob = app_xml(
                "Microsoft Office Word",
                "<Template>Normal.dotm</Template><TotalTime>0</TotalTime>"
                "<Pages>1</Pages><Words>0</Words><Characters>0</Characters>",
            )
    fix_core_properties(doc.core_properties, "NHS paper template", "Board papers", "en-GB")

    buffer = io.BytesIO()
    doc.save(buffer)
    path.write_bytes(normalise_zip(buffer.getvalue()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output directory (default: next to this script)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    pptx_path, docx_path = args.out / "board.pptx", args.out / "paper.docx"
    build_pptx(pptx_path)
    build_docx(docx_path)
    print(f"wrote {pptx_path} and {docx_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
