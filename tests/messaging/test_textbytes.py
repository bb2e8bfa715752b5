"""The SMS character check reports the same characters whether a text takes the whole-text
path (plain Korean) or the per-character one."""

from __future__ import annotations

from dangol.messaging import textbytes


def test_every_bmp_character_is_classified_the_same_inside_a_korean_text():
    for cp in range(0x80, 0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # surrogates are not characters
        ch = chr(cp)
        found = textbytes.check(f"안녕하세요 {ch} 단골 카페")
        kind = textbytes._char_class(ch)
        expected = {
            "": ((), (), ()),
            "emoji": ((ch,), (), ()),
            "not_cp949": ((), (ch,), ()),
            "outside": ((), (), (ch,)),
        }[kind]
        assert (found.emoji, found.not_cp949, found.outside_ks_x_1001) == expected, hex(cp)


def test_known_characters():
    assert textbytes.check("(광고) 단골 카페 ☎ 02-555-0101").outside_ks_x_1001 == ()
    assert textbytes.check("똠양꿍 나왔어요").outside_ks_x_1001 == ("똠",)
    assert textbytes.check("맛있어요 😀").emoji == ("😀",)
    assert textbytes.check("café 가").not_cp949 == ("é",)
