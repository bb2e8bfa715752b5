"""Who the customers are: names, phone numbers, e-mail, birthdays and consents."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from .models import DemoConsent

# Surnames with approximate shares (%) of the population (2015 census, rounded).
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("김", "kim", 21.5),
    ("이", "lee", 14.7),
    ("박", "park", 8.4),
    ("최", "choi", 4.7),
    ("정", "jung", 4.3),
    ("강", "kang", 2.4),
    ("조", "cho", 2.1),
    ("윤", "yoon", 2.1),
    ("장", "jang", 2.0),
    ("임", "lim", 1.7),
    ("한", "han", 1.5),
    ("오", "oh", 1.5),
    ("서", "seo", 1.5),
    ("신", "shin", 1.5),
    ("권", "kwon", 1.4),
    ("황", "hwang", 1.4),
    ("안", "ahn", 1.4),
    ("송", "song", 1.4),
    ("전", "jeon", 1.3),
    ("홍", "hong", 1.1),
    ("유", "yoo", 1.2),
    ("고", "ko", 0.9),
    ("문", "moon", 0.9),
    ("양", "yang", 0.9),
    ("손", "son", 0.9),
    ("배", "bae", 0.8),
    ("백", "baek", 0.8),
    ("허", "heo", 0.6),
    ("남", "nam", 0.6),
    ("심", "shim", 0.5),
    ("노", "noh", 0.5),
    ("하", "ha", 0.5),
    ("곽", "kwak", 0.4),
    ("성", "sung", 0.4),
    ("차", "cha", 0.4),
    ("주", "joo", 0.4),
    ("우", "woo", 0.4),
    ("구", "koo", 0.4),
    ("민", "min", 0.3),
    ("진", "jin", 0.3),
    ("나", "na", 0.3),
    ("지", "ji", 0.3),
    ("엄", "eom", 0.3),
    ("채", "chae", 0.3),
    ("원", "won", 0.3),
    ("천", "cheon", 0.2),
    ("방", "bang", 0.2),
    ("공", "kong", 0.2),
    ("현", "hyun", 0.2),
    ("함", "ham", 0.2),
    ("변", "byun", 0.2),
    ("염", "yeom", 0.2),
    ("여", "yeo", 0.1),
    ("추", "choo", 0.1),
    ("도", "do", 0.1),
    ("석", "seok", 0.1),
    ("선", "sun", 0.1),
    ("설", "seol", 0.1),
    ("마", "ma", 0.1),
    ("길", "gil", 0.1),
    ("연", "yeon", 0.1),
    ("위", "wi", 0.1),
    ("표", "pyo", 0.1),
    ("명", "myung", 0.1),
    ("기", "ki", 0.1),
    ("반", "ban", 0.1),
    ("왕", "wang", 0.1),
    ("금", "keum", 0.1),
    ("옥", "ok", 0.1),
    ("육", "yuk", 0.1),
    ("인", "in", 0.1),
    ("탁", "tak", 0.1),
    ("남궁", "namgoong", 0.05),
    ("황보", "hwangbo", 0.03),
    ("제갈", "jegal", 0.02),
    ("선우", "sunwoo", 0.02),
)

# Given names in rough order of popularity, by gender and birth cohort.
_F_YOUNG = (
    "서연 seoyeon,민지 minji,지민 jimin,서윤 seoyun,지우 jiwoo,수빈 subin,하은 haeun,"
    "예은 yeeun,지원 jiwon,유진 yujin,민서 minseo,채원 chaewon,지은 jieun,수연 suyeon,"
    "다은 daeun,윤서 yunseo,지현 jihyun,예린 yerin,소연 soyeon,하윤 hayun,가은 gaeun,"
    "은비 eunbi,나연 nayeon,서현 seohyun,수민 sumin,지수 jisu,혜원 hyewon,예진 yejin,"
    "다인 dain,유나 yuna"
)
_F_OLD = (
    "지영 jiyoung,미영 miyoung,은영 eunyoung,현정 hyunjung,수진 sujin,혜진 hyejin,"
    "은정 eunjung,정은 jungeun,미경 mikyung,선영 sunyoung,지혜 jihye,은주 eunju,"
    "미정 mijung,영희 younghee,경희 kyunghee,미숙 misook,정희 junghee,혜경 hyekyung,"
    "윤정 yunjung,민정 minjung,주연 juyeon,소영 soyoung,보람 boram,아름 areum,"
    "슬기 seulgi,은지 eunji,지연 jiyeon,미란 miran,경아 kyunga,순자 soonja"
)
_M_YOUNG = (
    "민준 minjun,서준 seojun,도윤 doyun,예준 yejun,시우 siwoo,하준 hajun,지호 jiho,"
    "주원 juwon,지훈 jihoon,현우 hyunwoo,준서 junseo,건우 gunwoo,민재 minjae,우진 woojin,"
    "도현 dohyun,승민 seungmin,지성 jisung,태윤 taeyun,은우 eunwoo,민성 minsung,"
    "재원 jaewon,승현 seunghyun,준혁 junhyuk,시윤 siyun,동하 dongha,유준 yujun,"
    "정우 jungwoo,태민 taemin,민혁 minhyuk,성빈 sungbin"
)
_M_OLD = (
    "성민 sungmin,동현 donghyun,준호 junho,정훈 junghoon,상현 sanghyun,영수 youngsoo,"
    "성호 sungho,재현 jaehyun,태현 taehyun,민수 minsu,진우 jinwoo,현준 hyunjun,"
    "준영 junyoung,성진 sungjin,동욱 dongwook,재민 jaemin,종현 jonghyun,상우 sangwoo,"
    "경민 kyungmin,재훈 jaehoon,영호 youngho,병철 byungchul,영철 youngchul,상훈 sanghoon,"
    "정호 jungho,승우 seungwoo,창민 changmin,광수 kwangsoo,기현 kihyun,철수 chulsoo"
)


def _names(spec: str) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(part.split(" ")) for part in spec.split(","))  # type: ignore[misc]


GIVEN_NAMES = {
    ("F", True): _names(_F_YOUNG),
    ("F", False): _names(_F_OLD),
    ("M", True): _names(_M_YOUNG),
    ("M", False): _names(_M_OLD),
}
EMAIL_DOMAINS = (
    ("naver.com", 0.45),
    ("gmail.com", 0.30),
    ("daum.net", 0.09),
    ("kakao.com", 0.08),
    ("hanmail.net", 0.06),
    ("nate.com", 0.02),
)
AD_KINDS = ("ad_sms", "ad_kakao", "ad_email", "ad_push", "ad_night")


def _zipf(n: int) -> np.ndarray:
    w = 1.0 / (np.arange(n) + 6.0) ** 0.6
    return w / w.sum()


def unique_phones(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct ``010-XXXX-XXXX`` numbers; the middle block is 2000–9999 (never 0000).

    Middle blocks 5970–5999 are not allocated to mobiles, so phone validation rejects them.
    """
    numbers: set[int] = set()
    out: list[int] = []
    while len(out) < n:
        for x in rng.integers(0, 8000 * 10000, size=n - len(out) + 8).tolist():
            if 5970 <= 2000 + x // 10000 <= 5999:
                continue
            if x not in numbers and len(out) < n:
                numbers.add(x)
                out.append(x)
    return [f"010-{2000 + x // 10000:04d}-{x % 10000:04d}" for x in out]


class PeopleFactory:
    def __init__(self, rng: np.random.Generator, end: date):
        self.rng = rng
        self.end = end
        self._surname_p = np.array([s[2] for s in SURNAMES])
        self._surname_p /= self._surname_p.sum()
        self._emails: set[str] = set()

    def identity(self) -> dict:
        rng = self.rng
        r = rng.random()
        gender = "F" if r < 0.56 else ("M" if r < 0.95 else "")
        name_gender = gender or ("F" if rng.random() < 0.5 else "M")
        age = int(np.clip(np.rint(rng.normal(34, 10)), 17, 72))
        birth_year = self.end.year - age
        young = birth_year >= 1986 if rng.random() < 0.85 else birth_year < 1986
        pool = GIVEN_NAMES[(name_gender, young)]
        given_hangul, given_roman = pool[int(rng.choice(len(pool), p=_zipf(len(pool))))]
        s_hangul, s_roman, _ = SURNAMES[int(rng.choice(len(SURNAMES), p=self._surname_p))]
        return {
            "name": s_hangul + given_hangul,
            "gender": gender,
            "birth_year": birth_year,
            "roman": (s_roman, given_roman),
        }

    def email(self, roman: tuple[str, str], birth_year: int) -> str:
        rng = self.rng
        surname, given = roman
        yy = f"{birth_year % 100:02d}"
        style = int(rng.integers(0, 5))
        local = (
            f"{given}{yy}",
            f"{given}.{surname}",
            f"{surname}{given}{int(rng.integers(1, 999))}",
            f"{given}_{surname}{yy}",
            f"{surname}.{given}{int(rng.integers(1, 99))}",
        )[style]
        domains, weights = zip(*EMAIL_DOMAINS, strict=True)
        domain = domains[int(rng.choice(len(domains), p=np.array(weights) / sum(weights)))]
        address = f"{local}@{domain}"
        n = 2
        while address in self._emails:
            address = f"{local}{n}@{domain}"
            n += 1
        self._emails.add(address)
        return address

    def birthday(self, birth_year: int) -> tuple[date, str, bool]:
        """(date, calendar, leap month). Lunar birthdays store the lunar y/m/d in a ``date``."""
        rng = self.rng
        lunar = rng.random() < (0.22 if birth_year < 1980 else 0.05)
        if not lunar:
            day = date(birth_year, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
            return day, "solar", False
        from korean_lunar_calendar import KoreanLunarCalendar

        cal = KoreanLunarCalendar()
        leap_month = next(
            (m for m in range(1, 13) if cal.setLunarDate(birth_year, m, 1, True)), None
        )
        for _ in range(20):
            month = int(rng.integers(1, 13))
            day = int(rng.integers(1, 31 if month != 2 else 29))
            leap = leap_month == month and rng.random() < 0.5
            if cal.setLunarDate(birth_year, month, day, leap):
                return date(birth_year, month, day), "lunar", leap
        return date(birth_year, 1, 15), "lunar", False

    def consents(
        self, joined_at: datetime, end_at: datetime, has_email: bool, early_joiner: bool
    ) -> tuple[DemoConsent, ...]:
        rng = self.rng

        def later(after: datetime) -> datetime:
            span = max((end_at - after).total_seconds(), 0.0)
            return after + timedelta(seconds=int(rng.uniform(0, span)))

        if early_joiner and rng.random() < 0.5:
            source = "import"
        else:
            source = "tablet" if rng.random() < 0.75 else "staff"
        out = [DemoConsent("pipa_collection", True, joined_at, source)]
        if rng.random() < 0.60:
            at = joined_at if rng.random() < 0.85 else later(joined_at)
            src = source if at == joined_at else ("tablet" if rng.random() < 0.6 else "staff")
            out.append(DemoConsent("pipa_marketing", True, at, src))
            chosen = {
                "ad_sms": rng.random() < 0.55 / 0.60,
                "ad_kakao": rng.random() < 0.50 / 0.60,
                "ad_email": has_email and rng.random() < 0.30 / 0.60,
                "ad_push": rng.random() < 0.20 / 0.60,
            }
            chosen["ad_night"] = (
                chosen["ad_sms"] or chosen["ad_kakao"] or chosen["ad_push"]
            ) and rng.random() < 0.10 / 0.55
            out.extend(DemoConsent(k, True, at, src) for k in AD_KINDS if chosen[k])
            if rng.random() < 0.09:  # ~5 % of all customers later withdraw something
                granted = [c for c in out[1:]]
                target = granted[int(rng.integers(0, len(granted)))]
                when = later(target.at + timedelta(days=1))
                if when <= end_at:
                    src = "staff" if rng.random() < 0.6 else "tablet"
                    out.append(DemoConsent(target.kind, False, when, src))
        return tuple(sorted(out, key=lambda c: (c.at, CONSENT_ORDER[c.kind], c.granted)))


CONSENT_ORDER = {k: i for i, k in enumerate(("pipa_collection", "pipa_marketing", *AD_KINDS))}
