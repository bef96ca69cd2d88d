"""watcher.matching.normalize: one table of names and the forms they must take."""

from __future__ import annotations

import pytest

from watcher.matching.normalize import country_code, normalize, text_tokens

CASES = [
    # (name, tokens)  legal forms (fingerprints), "group"/"holding" noise, punctuation, case
    ("SENSETIME GROUP LIMITED", ("sensetime",)),
    (
        "Hangzhou Hikvision Digital Technology Co., Ltd.",
        ("hangzhou", "hikvision", "digital", "technology"),
    ),
    ("iFLYTEK CO.,LTD.", ("iflytek",)),
    ("DAHUA ELECTRONICS CORPORATION", ("dahua", "electronics")),
    ("Huawei Investment & Holding Co., Ltd.", ("huawei", "investment")),
    (
        "Xinjiang Uighur Autonomous Region (XUAR) People's Government Public Security Bureau",
        (
            "xinjiang",
            "uighur",
            "autonomous",
            "region",
            "xuar",
            "peoples",
            "government",
            "public",
            "security",
            "bureau",
        ),
    ),
    # a name that is only a legal form keeps its words
    ("Limited", ("limited",)),
    # NFKC (full-width letters) and diacritics
    ("ＭＥＧＶＩＩ", ("megvii",)),
    ("Ürümqi", ("urumqi",)),
    # Han: traditional -> simplified, legal form stripped, one pinyin word per run
    ("商湯科技", ("shangtangkeji",)),
    ("商汤科技", ("shangtangkeji",)),
    ("浙江大华技术股份有限公司", ("zhejiangdahuajishu",)),
    ("新疆生产建设兵团", ("xinjiangshengchanjianshebingtuan",)),
    ("中國新建集團公司", ("zhongguoxinjian",)),
    # other scripts (ICU transliteration)
    ("ДАХУА", ("dahua",)),
    # whole tokens: Xin is never part of another word
    ("Xinrong", ("xinrong",)),
    ("XIN GUANG HAI", ("xin", "guang", "hai")),
]


@pytest.mark.parametrize(("name", "tokens"), CASES)
def test_normalize_tokens(name: str, tokens: tuple[str, ...]) -> None:
    assert normalize(name).tokens == tokens


@pytest.mark.parametrize(
    ("a", "b", "form"),
    [
        ("Zhejiang Dahua Technology", "Technology Zhejiang Dahua", "sorted_key"),  # word order
        ("Hik Vision", "HIKVISION", "compact"),  # spacing
        ("Xinjiang Shengchan Jianshe Bingtuan", "新疆生产建设兵团", "compact"),  # Han vs pinyin
        ("Megvii Technology Ltd.", "MEGVII TECHNOLOGY LIMITED", "key"),
        ("曠視科技", "旷视科技", "key"),  # traditional == simplified
    ],
)
def test_forms_that_compare_equal(a: str, b: str, form: str) -> None:
    assert getattr(normalize(a), form) == getattr(normalize(b), form)


def test_exact_form_is_only_case_and_whitespace() -> None:
    assert normalize("  Sense   Time ").folded == normalize("SENSE TIME").folded
    assert normalize("SenseTime Ltd").folded != normalize("SenseTime").folded


def test_text_tokens_keep_legal_forms() -> None:
    assert text_tokens("Hikvision Co., Ltd. (海康威視)") == (
        "hikvision",
        "co",
        "ltd",
        "haikangweishi",
    )


@pytest.mark.parametrize(
    ("country", "code"),
    [
        ("China", "CN"),
        ("CN", "CN"),
        ("Hong Kong SAR", "HK"),
        ("Cayman Islands", "KY"),
        ("United States", "US"),
        ("Korea, North", "KP"),
        ("", None),
        (None, None),
        ("Atlantis", None),
    ],
)
def test_country_code(country: str | None, code: str | None) -> None:
    assert country_code(country) == code
