"""Malformed input for the importers: random bytes and text, damaged real documents, sheets and archives.

Every strategy here builds input a user could upload by mistake or on purpose. They are shared by
the hypothesis properties in this folder and by the coverage-guided driver in fuzz/ (which feeds
its own bytes to the same targets).
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
HOHHOT = ROOT / "seed" / "hohhot-energy-saving-2021-2025.txt"
DOCUMENTS = [HOHHOT, *sorted((ROOT / "tests" / "documents" / "genre").glob("*.txt"))]
TEXTS = [path.read_text(encoding="utf-8") for path in DOCUMENTS]

CHINESE_RE = re.compile(r"[\u4e00-\u9fff]")

# --- the pieces a plan document is made of ---------------------------------------------------------

NUMERALS = "一二三四五六七八九十百两零〇"
UNIT_NAMES = ["市发展改革委", "市发改委", "市发展和改革委员会", "工业和信息化局", "市生态环境局", "市统计局",
              "自治区发展改革委", "国家能源局", "市场监管局", "大数据局", "土左旗", "土默特左旗", "新城区",
              "各旗县区", "各有关部门", "有关单位", "其他有关部门", "试点城市政府", "国务院办公厅",
              "经济技术开发区", "和林格尔新区", "中共呼和浩特市委宣传部", "A公司", "甲" * 130, "局",
              "", "、", "，", "等"]
ROLE_LABELS = ["牵头单位：", "责任单位：", "配合单位：", "参与部门：", "协办单位：", "主办单位：", "牵头单位:",
               "责任单位", "**责任单位**：", "牵头单位：；"]
VERBS = ["牵头", "负责", "牵头负责", "会同", "指导", "负责落实", "按职责分工负责", "分工负责", "参与", "配合"]
MARKERS = ["一、", "二、", "十二、", "（一）", "（二）", "（十）", "(三)", "1.", "2、", "12.", "999.", "附件", "附件 1",
           "附件2：", "注：", "- ", "**", "国发〔2018〕39号", "2022年1月5日", "（此件公开发布）",
           "列第一位者为牵头单位，下同", "以下均需各旗县区落实，不再列出。", "下同"]
PROSE = ["到2025年，", "单位GDP能耗比2020年下降12%", "创建绿色工厂35家", "分别降低20%、10%", "均达到45%以上",
         "全部完成超低排放改造", "基本实现", "不超过1.2", "控制在5000万吨标准煤以内", "最高不超过100万元",
         "2021—2025年", "十四五", "。", "，", "；", "：", "的", "电能利用效率（PUE值）", "“两高”", "……",
         "1.5", "0.5个百分点", "9" * 60, "1e309", "NaN", "Infinity", "〔-19.7%〕", "—", "\u3000", " ", "\ufeff"]
BRACKETS = ["（", "）", "(", ")", "（（", "））", "〔", "〕", "【", "】", "“", "”"]
CELLS = ["", " ", "—", "——", "-", "/", "无", "—/—", "0", "12", "12.5", "-3.2", "+7", "1,234.5", "１２", "45%",
         "-5%", "〔-19.7%〕", "27.02/〔-19.7%〕", "51/〔-2.89%〕", "12万吨", "556.39万千瓦时", "3.5吨", "1e5",
         "1E+400", "NaN", "Infinity", "-Infinity", "nan", "9" * 50, "0." + "0" * 40 + "1", "1/2/3", "%",
         "〔〕", "〔%〕", "指标", "单位", "地区", "目标", "基本目标", "激励目标", "能耗强度降低基本目标（%）",
         "2020年实际值", "2025年目标值", "变化幅度/变化率%", "2020 年实际值", "2025 年指标", "目标值",
         "能源", "工业", "单位GDP能耗降低率", "万元", "%", "吨标准煤/万元", "新城区", "土左旗", "市发展改革委"]


@st.composite
def annotations(draw) -> str:
    """Something in brackets that looks like who carries a clause, often wrongly."""
    opening = draw(st.sampled_from(["（", "(", "（（", "", "（牵头单位：（"]))
    closing = draw(st.sampled_from(["）", ")", "））", "", "）。", "）)"]))
    names = lambda: "、".join(draw(st.lists(st.sampled_from(UNIT_NAMES), min_size=0, max_size=4)))
    kind = draw(st.integers(0, 3))
    if kind == 0:       # labelled: 牵头单位：…；责任单位：…
        parts = [draw(st.sampled_from(ROLE_LABELS)) + names() for _ in range(draw(st.integers(1, 3)))]
        body = draw(st.sampled_from(["；", ";", "。", "，"])).join(parts)
    elif kind == 1:     # verbs: A牵头，B参与 / A、B负责
        parts = [names() + draw(st.sampled_from(VERBS)) for _ in range(draw(st.integers(1, 3)))]
        body = draw(st.sampled_from(["，", "；", "、", ""])).join(parts)
    elif kind == 2:     # with a rule or a carry-forward note
        body = names() + draw(st.sampled_from(VERBS)) + draw(st.sampled_from(
            ["。列第一位者为牵头单位，下同", "，下同", "。以下均需" + names() + "落实，不再列出", ""]))
    else:               # nested brackets, prose, or nothing
        body = draw(st.sampled_from(["", "试行", "PUE值", "负责", "牵头单位：（市统计局）",
                                     "牵头单位：市统计局（市发展改革委负责）", "（）", "2021—2025年"]))
    return opening + body + closing


@st.composite
def table_rows(draw) -> str:
    """A few tab-separated rows: an annex table, often broken."""
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        cells = draw(st.lists(st.one_of(st.sampled_from(CELLS), st.text(max_size=8),
                                        st.decimals(allow_nan=True, allow_infinity=True).map(str),
                                        st.integers(-10**40, 10**40).map(str)),
                              min_size=1, max_size=7))
        rows.append("\t".join(cells))
    return "\n".join(rows)


FRAGMENTS = st.one_of(st.sampled_from(MARKERS), st.sampled_from(PROSE), st.sampled_from(BRACKETS),
                      st.sampled_from(UNIT_NAMES), annotations(), table_rows(),
                      st.sampled_from(["\n", "\n\n", "\t", "\r", "\r\n"]), st.text(max_size=6))


@st.composite
def built_documents(draw) -> str:
    """A document assembled from the genre's pieces: title, numbered parts, annotations, annexes."""
    lines = [draw(st.sampled_from(["呼和浩特市“十四五”节能减排综合工作实施方案", "关于推进某项工作的意见",
                                   "2021—2025年行动计划", "", "方案" * 40, "国发〔2018〕39号"]))]
    for _ in range(draw(st.integers(0, 12))):
        line = draw(st.sampled_from(["一、", "二、", "（一）", "（二）", "1.", "2.", "", "附件 1", "附件2"]))
        line += "".join(draw(st.lists(FRAGMENTS, max_size=5)))
        lines.append(line)
    return "\n".join(lines)


@st.composite
def mutated_documents(draw, texts: list[str] = TEXTS) -> str:
    """A real plan (Hohhot, or one of the State Council genre) damaged by a few random edits."""
    text = draw(st.sampled_from(texts))
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 6))):
        edit = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "insert", "insert", "table",
                                     "brackets"]))
        if not lines:
            lines = [""]
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        if edit == "delete":
            del lines[index]
        elif edit == "duplicate":
            lines.insert(draw(st.integers(0, len(lines))), line)
        elif edit == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], line
        elif edit == "truncate":
            joined = "\n".join(lines)
            lines = joined[:draw(st.integers(0, len(joined)))].split("\n")
        elif edit == "insert":
            at = draw(st.integers(0, len(line)))
            lines[index] = line[:at] + draw(FRAGMENTS) + line[at:]
        elif edit == "table":
            lines.insert(index, draw(table_rows()))
        else:
            lines[index] = line.translate(str.maketrans(draw(st.sampled_from(
                [{"（": "(", "）": ")"}, {"）": ""}, {"（": ""}, {"）": "（"}, {"：": ":"}, {"、": "，"}]))))
    return "\n".join(lines)


CJK_TEXT = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=160)
NUMBERS = st.one_of(st.integers(0, 100), st.integers(0, 10**60), st.decimals(0, 10**6, places=2),
                    st.sampled_from(["0", "12", "12.5", "9" * 50, "0." + "0" * 50 + "1", "1,234"]))


@st.composite
def unit_names(draw) -> str:
    return draw(st.one_of(st.sampled_from(UNIT_NAMES[:-4]), st.sampled_from(UNIT_NAMES[:-4]), CJK_TEXT))


@st.composite
def small_plans(draw) -> str:
    """A short plan that parses, each part drawn wild: names, labels, figures and annex cells of any length.

    Mutating a real plan mostly breaks it; this reaches the database with what the parser let through.
    """
    names = lambda: "、".join(draw(st.lists(unit_names(), min_size=1, max_size=3)))
    lines = [draw(st.one_of(st.sampled_from(["某市“十四五”节能减排实施方案", "2021—2025年行动计划"]), CJK_TEXT)),
             draw(st.sampled_from(["", "市政发〔2022〕17号", "市政发〔2022〕" + "1" * 60 + "号"]))]
    for section in range(1, draw(st.integers(1, 3)) + 1):
        label = "一二三"[section - 1]
        if draw(st.integers(0, 9)) == 7:     # now and then a label that is wrong or too long
            label = draw(st.sampled_from(["一", "十一", "一" * 30, "百" * 40]))
        lines.append(f"{label}、{draw(st.sampled_from(['重点任务', '保障措施']))}")
        for clause in range(draw(st.integers(1, 3))):
            clause_label = f"（{'一二三'[clause]}）"
            if draw(st.integers(0, 9)) == 7:
                clause_label = draw(st.sampled_from(["（一）", "（" + "二" * 30 + "）", "1.", "2."]))
            measure = draw(st.one_of(st.sampled_from(["绿色工厂", "单位GDP能耗", "新能源汽车"]), CJK_TEXT))
            number = draw(NUMBERS)
            unit = draw(st.sampled_from(["家", "%", "万吨标准煤", "个百分点", ""]))
            annotation = draw(st.sampled_from([
                f"（牵头单位：{names()}；责任单位：{names()}）", f"（{names()}负责）", f"（{names()}牵头，{names()}参与）",
                f"（牵头单位：{names()}，下同）", f"（{names()}负责。列第一位者为牵头单位，下同）"]))
            lines.append(f"{clause_label}推进工作。到2025年，{measure}下降{number}{unit}。{annotation}")
    if draw(st.booleans()):
        lines += ["附件 1", "各地区能耗强度降低目标", "地区\t基本目标（%）\t激励目标（%）"]
        lines += [f"{draw(unit_names())}\t{draw(NUMBERS)}\t{draw(NUMBERS)}" for _ in range(draw(st.integers(1, 4)))]
    if draw(st.booleans()):
        lines += ["附件 2", "主要指标", "指标\t单位\t2020年实际值\t2025年目标值\t变化幅度/变化率%",
                  draw(st.one_of(st.just("能源"), CJK_TEXT)) + "\t\t\t\t"]
        for _ in range(draw(st.integers(1, 4))):
            cells = [draw(st.one_of(st.just("单位GDP能耗"), CJK_TEXT)),
                     draw(st.one_of(st.sampled_from(["%", "万吨标准煤", ""]), CJK_TEXT)),
                     str(draw(NUMBERS)), str(draw(NUMBERS)),
                     draw(st.one_of(st.sampled_from(CELLS), NUMBERS.map(str), CJK_TEXT))]
            lines.append("\t".join(cells))
    return "\n".join(lines)


#: any text the plan parser may be handed
plan_texts = st.one_of(mutated_documents(), built_documents(), small_plans(), st.text(max_size=300),
                       st.text(alphabet=st.sampled_from(list(NUMERALS + "（）()、。，；：\t\n1234567890.%—附件牵头单位"
                                                              "责任负责各有关市局区县旗")), max_size=300))

ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "big5", "shift_jis"]


@st.composite
def encoded(draw, texts=plan_texts) -> bytes:
    """Text in an encoding the importer accepts or not, sometimes with a few bytes flipped."""
    data = draw(texts).encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    if data and draw(st.booleans()):
        data = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        data = bytes(data)
    return data


# --- archives: .docx and .xlsx --------------------------------------------------------------------

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


_TIMESTAMP_RE = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?")


def reproducible(data: bytes) -> bytes:
    """The same archive whatever the clock: python-docx and openpyxl stamp the time of saving.

    Hypothesis replays an example to shrink it; bytes that change between runs would make it flaky.
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            body = source.read(entry)
            if entry.filename.startswith("docProps/"):
                body = _TIMESTAMP_RE.sub(b"2024-01-01T00:00:00Z", body)
            target.writestr(zipfile.ZipInfo(entry.filename, date_time=(2024, 1, 1, 0, 0, 0)), body,
                            compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@st.composite
def docx_files(draw) -> bytes:
    """A real Word document (python-docx) with random paragraphs and tables."""
    from docx import Document

    document = Document()
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.integers(0, 4)) == 0:
            rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 5))
            table = document.add_table(rows=rows, cols=cols)
            for cell in table._cells:
                cell.text = xml_safe(draw(st.one_of(st.sampled_from(CELLS), st.text(max_size=6))))
            if rows > 1 and cols > 1 and draw(st.booleans()):
                table.cell(0, 0).merge(table.cell(0, 1))
        else:
            document.add_paragraph(xml_safe(draw(st.one_of(
                st.sampled_from(lines_of_documents()), built_documents(), FRAGMENTS))))
    buffer = io.BytesIO()
    document.save(buffer)
    return reproducible(buffer.getvalue())


def lines_of_documents() -> list[str]:
    return [line for line in TEXTS[0].split("\n") if line.strip()]


SHEET_VALUES = st.one_of(
    st.none(), st.text(max_size=12).map(xml_safe), st.sampled_from(CELLS), st.booleans(),
    st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.dates(min_value=date(1900, 3, 1)), st.times(),
    st.sampled_from(["=1+1", "=SUM(A1:A3)", "=1/0", "=A1", "=cmd|' /C calc'!A0", "#DIV/0!", "TRUE", "2023年",
                     " 2023 ", "二〇二三", "２０２３", "2023.0", "1,000", "１,０００.５", "-0", "+5", ".5", "5.",
                     "\u2212" + "3", "1e5", "12 345", "100%", "市统计局", "甲区", "甲区人民政府", "丙县全称",
                     "zhangwei@example.gov.cn", "ZhangWei@Example.GOV.cn", "a@b", "@", "x" * 300]))


def _openpyxl_value(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


@st.composite
def xlsx_files(draw, header=None) -> bytes:
    """A real workbook (openpyxl) with random sheets and cells; the first sheet may start with `header`."""
    from openpyxl import Workbook

    workbook = Workbook()
    if draw(st.integers(0, 6)) == 0:
        workbook.remove(workbook.active)
        workbook.create_sheet("空")
    sheet = workbook.worksheets[0]
    if header is not None:
        sheet.append(draw(header))
    for _ in range(draw(st.integers(0, 8))):
        sheet.append([_openpyxl_value(v) for v in draw(st.lists(SHEET_VALUES, max_size=8))])
    if draw(st.booleans()):
        extra = workbook.create_sheet("其他")
        extra.append([_openpyxl_value(v) for v in draw(st.lists(SHEET_VALUES, max_size=4))])
    if draw(st.integers(0, 5)) == 0 and sheet.max_row > 1:
        sheet.merge_cells(start_row=1, start_column=1, end_row=2, end_column=1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return reproducible(buffer.getvalue())


@st.composite
def damaged_archives(draw, archives) -> bytes:
    """A real archive cut short, with bytes flipped, or with one member removed or rewritten."""
    data = draw(archives)
    how = draw(st.sampled_from(["truncate", "flip", "member", "member", "pk-header"]))
    if how == "truncate":
        return data[:draw(st.integers(0, len(data)))]
    if how == "flip":
        flipped = bytearray(data)
        for _ in range(draw(st.integers(1, 16))):
            flipped[draw(st.integers(0, len(flipped) - 1))] = draw(st.integers(0, 255))
        return bytes(flipped)
    if how == "pk-header":
        return b"PK\x03\x04" + draw(st.binary(max_size=300))
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    victim = draw(st.sampled_from(names))
    replacement = draw(st.one_of(st.none(), st.sampled_from([
        b"", b"<", b"<?xml version='1.0'?><root/>", b"\x00\xff\xfe", b"<a><b></a>", b"not xml at all",
        b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>"]), st.binary(max_size=64)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in names:
            stamped = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            if name != victim:
                target.writestr(stamped, source.read(name), compress_type=zipfile.ZIP_DEFLATED)
            elif replacement is not None:
                target.writestr(stamped, replacement, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


#: any bytes a user could upload as a plan document
plan_files = st.one_of(
    encoded(), st.binary(max_size=400), st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
    st.binary(max_size=200).map(lambda b: b"\xef\xbb\xbf" + b), docx_files(), damaged_archives(docx_files()),
    xlsx_files(), damaged_archives(xlsx_files()))

FILENAMES = st.one_of(st.sampled_from(["plan.txt", "plan.docx", "PLAN.DOCX", "plan", "计划.txt", "plan.text",
                                       "plan.xlsx", "a.csv", "", ".docx", "x" * 290 + ".txt"]),
                      st.text(max_size=20))


# --- sheets: contacts, energy data, measures ------------------------------------------------------

CONTACT_HEADERS = ["unit", "name", "email", "phone", "单位", "姓名", "电子邮箱", "电话", "邮箱", "联系人", "单位名称",
                   "E-mail", "EMAIL", "\ufeffunit", " 单位 ", "手机", "电子邮件", "联系电话", "备注", "", "unit"]
ENERGY_HEADERS = ["area", "year", "energy_tce", "gdp_10k_yuan", "renewable_tce", "feedstock_tce",
                  "expected_total_tce", "地区", "年份", "能源消费总量", "能源消费总量（吨标准煤）", "地区生产总值(万元)",
                  "新增可再生能源电力消费量", "原料用能", "预期能源消费总量", "GDP", "旗县区", "年度", "地区名称",
                  "能源消费总量〔吨〕", "ＡＲＥＡ", "", "备注", "年份"]
MEASURES_HEADERS = ["area", "year", "measures_score", "note", "地区", "年份", "措施得分", "说明", "score",
                    "节能措施得分", "评分", "得分", "评分说明", "备注", "理由", "", "note"]


def headers(words: list[str], complete: list[str]):
    """A header row: usually the complete one shuffled, sometimes with columns missing, doubled or extra."""
    return st.one_of(
        st.permutations(complete),
        st.lists(st.sampled_from(words), min_size=0, max_size=9),
        st.permutations(complete).flatmap(lambda cols: st.lists(st.sampled_from(words), max_size=3).map(
            lambda extra: list(cols) + extra)))


JUNK_CELLS = st.one_of(st.sampled_from(CELLS), st.text(max_size=10), st.integers(-10**30, 10**30).map(str),
                        st.sampled_from(["\"", "\"\"", "a\"b", "a,b", "\"a,b\"", "\r", "\n", "\x00", "x" * 600,
                                         "=1+1", "TRUE", "2023-01-01", "１２３", "−5", "1,2,3", "\ufeff"]))


@st.composite
def sheets(draw, words: list[str], complete: list[str], cells_for) -> list[list]:
    """A header row and data rows, as lists of cells.

    Half the sheets are clean: the complete header in some order and every cell one its column accepts
    (`cells_for(header word, clean=True)`), so imports succeed and can be repeated. The others have any
    header, cells of any kind (`clean=False`), junk now and then, and short or long rows.
    """
    clean = draw(st.booleans())
    header_row = list(draw(st.permutations(complete) if clean else headers(words, complete)))
    rows = [header_row]
    for _ in range(draw(st.integers(1 if clean else 0, 8))):
        width = len(header_row) + (0 if clean else draw(st.sampled_from([0, 0, 0, 0, -1, 1, 2])))
        row = []
        for index in range(max(width, 0)):
            word = header_row[index] if index < len(header_row) else ""
            junk = not clean and draw(st.integers(0, 11)) == 5
            row.append(draw(JUNK_CELLS if junk else cells_for(word, clean)))
        rows.append(row)
    return rows


def _text(value) -> str:
    return "" if value is None else str(value)


@st.composite
def csv_files(draw, sheet) -> bytes:
    """The sheet as CSV: delimiters, quotes, BOMs, encodings and line ends vary, sometimes mixed."""
    rows = draw(sheet)
    end = draw(st.sampled_from(["\n", "\r\n", "\r\n", "\r"]))
    quoted = draw(st.sampled_from(["never", "never", "always", "some"]))
    lines = []
    for row in rows:
        delimiter = "," if draw(st.integers(0, 9)) != 5 else draw(st.sampled_from([";", "\t", "，", ", "]))
        cells = [_text(cell) for cell in row]
        if quoted == "always" or (quoted == "some" and draw(st.booleans())):
            cells = ['"' + cell.replace('"', '""') + '"' for cell in cells]
        lines.append(delimiter.join(cells))
    text = end.join(lines) + draw(st.sampled_from(["", end, end, end * 3, "\"", "\x00", ",,,"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


@st.composite
def xlsx_sheets(draw, sheet) -> bytes:
    """The sheet as a real workbook, cells typed as a spreadsheet would (numbers, dates, booleans …)."""
    from openpyxl import Workbook

    rows = draw(sheet)
    workbook = Workbook()
    worksheet = workbook.active
    for row in rows:
        worksheet.append([xml_safe(cell) if isinstance(cell, str) else _openpyxl_value(cell) for cell in row])
    if draw(st.integers(0, 5)) == 3:
        workbook.move_sheet(workbook.create_sheet("说明"), offset=-1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return reproducible(buffer.getvalue())


def sheet_files(sheet):
    """Any file a user could upload as a sheet: CSV, a real or damaged workbook, or junk."""
    return st.one_of(csv_files(sheet), csv_files(sheet), csv_files(sheet), xlsx_sheets(sheet), xlsx_sheets(sheet),
                     damaged_archives(xlsx_sheets(sheet)), st.binary(max_size=300),
                     st.binary(max_size=100).map(lambda b: b"PK\x03\x04" + b), docx_files(),
                     st.text(max_size=200).map(lambda t: t.encode("utf-8", errors="replace")))


SHEET_FILENAMES = st.sampled_from(["data.csv", "data.xlsx", "DATA.XLSX", "data.xls", "data.ods", "data.txt", "data",
                                   "联系人.csv", "data.numbers", "data.et"])
