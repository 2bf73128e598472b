"""Chinese ordinals as printed in plan documents: 一、 （十二） 二十一、."""

DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
          "六": 6, "七": 7, "八": 8, "九": 9}
NUMERAL_CHARS = "〇零一二两三四五六七八九十百"


def chinese_to_int(text: str) -> int:
    """Return the value of a Chinese numeral up to 999 (十五 → 15, 二十一 → 21).

    :raises ValueError: if `text` is not such a numeral
    """
    if not text or any(ch not in NUMERAL_CHARS for ch in text):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = DIGITS[ch]
    return total + current


def five_year_plan_years(ordinal: int) -> tuple[int, int]:
    """Return the years of the n-th five-year plan (十四五 → 2021–2025); valid from the third."""
    start = 1966 + 5 * (ordinal - 3)
    return start, start + 4
