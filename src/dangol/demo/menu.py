"""The demo café: its two stores, its menu and how baskets are put together."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .models import DemoProduct, DemoStore

SHOP_NAME = "단골커피"
SHOP_CATEGORY = "cafe"
SHOP_PHONE = "02-3446-7720"
OPTOUT_080 = "080-855-1472"
SENDER_NUMBERS = ("02-3446-7720", "02-6956-3318")

STORES: tuple[DemoStore, ...] = (
    DemoStore("gangnam", "단골커피 강남점", "서울특별시 강남구 테헤란로 152, 1층"),
    DemoStore("seongsu", "단골커피 성수점", "서울특별시 성동구 연무장길 28-1, 1층"),
)


@dataclass(frozen=True)
class MenuItem:
    product: DemoProduct
    popularity: float  # relative weight in an ordinary basket
    months: tuple[int, ...] = ()  # sold only in these months (empty = all year)
    summer_boost: float = 1.0  # demand multiplier in June–August
    winter_boost: float = 1.0  # demand multiplier in December–February
    morning_boost: float = 1.0  # before 11:00
    afternoon_boost: float = 1.0  # 14:00–18:00
    family_boost: float = 1.0  # weekend family baskets


def _p(sku: str, name: str, category: str, price: int, cost_share: float) -> DemoProduct:
    return DemoProduct(sku, name, category, price, round(price * cost_share / 10.0) * 10)


_SUMMER = (6, 7, 8)
_WINTER = (11, 12, 1, 2)
_STRAWBERRY = (12, 1, 2, 3, 4)

MENU: tuple[MenuItem, ...] = (
    MenuItem(
        _p("CF-AMR-H", "아메리카노", "커피", 4500, 0.22),
        14.0,
        summer_boost=0.4,
        winter_boost=1.4,
        morning_boost=1.4,
    ),
    MenuItem(
        _p("CF-AMR-I", "아이스 아메리카노", "커피", 4500, 0.23),
        16.0,
        summer_boost=1.8,
        winter_boost=0.6,
        morning_boost=1.4,
    ),
    MenuItem(
        _p("CF-LAT", "카페라떼", "커피", 5000, 0.28),
        8.0,
        summer_boost=0.5,
        winter_boost=1.3,
        morning_boost=1.2,
    ),
    MenuItem(
        _p("CF-LAT-I", "아이스 카페라떼", "커피", 5000, 0.29),
        6.0,
        summer_boost=1.7,
        winter_boost=0.6,
    ),
    MenuItem(_p("CF-VAN", "바닐라라떼", "커피", 5500, 0.30), 5.0),
    MenuItem(_p("CF-CAR", "카라멜 마키아토", "커피", 5800, 0.31), 3.0),
    MenuItem(_p("CF-CAP", "카푸치노", "커피", 5000, 0.27), 2.5, summer_boost=0.6),
    MenuItem(_p("CF-FLW", "플랫화이트", "커피", 5500, 0.30), 2.5),
    MenuItem(_p("CF-ESP", "에스프레소", "커피", 4000, 0.20), 1.0),
    MenuItem(_p("CF-CLD", "콜드브루", "커피", 5000, 0.25), 3.5, summer_boost=1.6),
    MenuItem(_p("CF-EIN", "아인슈페너", "커피", 6000, 0.32), 2.5, afternoon_boost=1.3),
    MenuItem(_p("NC-GRN", "녹차라떼", "논커피", 5500, 0.33), 2.5),
    MenuItem(
        _p("NC-CHO", "초코라떼", "논커피", 5500, 0.32), 2.0, summer_boost=0.7, family_boost=3.0
    ),
    MenuItem(_p("NC-MTE", "밀크티", "논커피", 5800, 0.30), 1.5),
    MenuItem(
        _p("NC-LEM", "레몬에이드", "논커피", 6000, 0.28), 2.0, summer_boost=2.0, family_boost=2.5
    ),
    MenuItem(_p("NC-GRP", "자몽허니블랙티", "논커피", 5800, 0.30), 2.5),
    MenuItem(_p("NC-CAM", "캐모마일 티", "논커피", 5000, 0.20), 1.0, summer_boost=0.5),
    MenuItem(
        _p("DS-CHZ", "뉴욕 치즈케이크", "디저트", 6500, 0.38),
        2.0,
        afternoon_boost=1.8,
        family_boost=2.5,
    ),
    MenuItem(
        _p("DS-TIR", "티라미수", "디저트", 6800, 0.38), 1.5, afternoon_boost=1.8, family_boost=2.0
    ),
    MenuItem(
        _p("DS-MAC", "마카롱", "디저트", 3000, 0.35), 1.5, afternoon_boost=1.5, family_boost=2.5
    ),
    MenuItem(
        _p("DS-CRF", "크로플", "디저트", 5500, 0.30), 2.0, afternoon_boost=1.6, family_boost=3.0
    ),
    MenuItem(_p("BK-CRO", "버터 크루아상", "베이커리", 4200, 0.36), 2.5, morning_boost=2.5),
    MenuItem(
        _p("BK-SLT", "소금빵", "베이커리", 3500, 0.32), 3.5, morning_boost=2.5, family_boost=1.5
    ),
    MenuItem(_p("BK-BAG", "크림치즈 베이글", "베이커리", 4500, 0.37), 2.0, morning_boost=3.0),
    MenuItem(_p("BK-FIN", "휘낭시에", "베이커리", 3000, 0.33), 1.5, afternoon_boost=1.3),
    MenuItem(
        _p("SN-BNG", "인절미 빙수", "시즌", 11000, 0.30),
        3.0,
        months=_SUMMER,
        afternoon_boost=2.0,
        family_boost=4.0,
    ),
    MenuItem(
        _p("SN-MNG", "망고 빙수", "시즌", 14000, 0.38),
        2.0,
        months=_SUMMER,
        afternoon_boost=2.0,
        family_boost=4.0,
    ),
    MenuItem(_p("SN-WML", "수박주스", "시즌", 7000, 0.35), 2.5, months=_SUMMER, family_boost=2.0),
    MenuItem(
        _p("SN-STR", "딸기라떼", "시즌", 6500, 0.36), 2.5, months=_STRAWBERRY, family_boost=2.0
    ),
    MenuItem(_p("SN-VIN", "뱅쇼", "시즌", 6500, 0.30), 1.5, months=_WINTER),
)

PRODUCTS: tuple[DemoProduct, ...] = tuple(item.product for item in MENU)
PRICES = np.array([p.price for p in PRODUCTS], dtype=np.int64)
SKUS: tuple[str, ...] = tuple(p.sku for p in PRODUCTS)
N_ITEMS = len(MENU)
DRINK_INDEX = np.array([i for i, p in enumerate(PRODUCTS) if p.category in ("커피", "논커피")])
SUMMER_TREAT_INDEX = np.array(
    [i for i, m in enumerate(MENU) if m.months == _SUMMER or m.summer_boost >= 1.6]
)

# contexts: daypart (0 morning, 1 midday, 2 afternoon, 3 evening) × family flag
N_DAYPARTS = 4


def daypart(minute_of_day: np.ndarray) -> np.ndarray:
    return np.select(
        [minute_of_day < 11 * 60, minute_of_day < 14 * 60, minute_of_day < 18 * 60],
        [0, 1, 2],
        3,
    )


def weight_table() -> np.ndarray:
    """Item weights indexed ``[month-1, daypart, family, item]``."""
    table = np.zeros((12, N_DAYPARTS, 2, N_ITEMS))
    for i, item in enumerate(MENU):
        for month in range(1, 13):
            if item.months and month not in item.months:
                continue
            w = item.popularity * (item.summer_boost if month in _SUMMER else 1.0)
            w *= item.winter_boost if month in (12, 1, 2) else 1.0
            for part in range(N_DAYPARTS):
                wp = w
                if part == 0:
                    wp *= item.morning_boost
                elif part == 2:
                    wp *= item.afternoon_boost
                table[month - 1, part, 0, i] = wp
                table[month - 1, part, 1, i] = wp * item.family_boost
    return table / table.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------- baskets

_SLOTS = {  # basket kind -> (item counts, probabilities)
    0: ((1, 2, 3, 4), (0.60, 0.28, 0.10, 0.02)),  # ordinary
    1: ((2, 3, 4, 5), (0.15, 0.35, 0.35, 0.15)),  # weekend family
    2: ((1, 2), (0.82, 0.18)),  # office lunch take-away
    3: ((1, 2, 3), (0.45, 0.45, 0.10)),  # summer treat
}
_SUMMER_TREATS = ("SN-BNG", "SN-MNG", "SN-WML", "CF-AMR-I", "NC-LEM", "CF-CLD")
SUMMER_TREAT_ITEMS = np.array([SKUS.index(s) for s in _SUMMER_TREATS])
_TWINS = (
    (SKUS.index("CF-AMR-H"), SKUS.index("CF-AMR-I")),
    (SKUS.index("CF-LAT"), SKUS.index("CF-LAT-I")),
)
FAVOURITE_DRINKS = np.array([i for i in DRINK_INDEX if not MENU[i].months])


def favourite_drinks(rng: np.random.Generator, n: int) -> np.ndarray:
    w = np.array([MENU[i].popularity for i in FAVOURITE_DRINKS])
    return rng.choice(FAVOURITE_DRINKS, size=n, p=w / w.sum())


def build_baskets(
    rng: np.random.Generator,
    month: np.ndarray,
    minute: np.ndarray,
    kind: np.ndarray,
    favourite: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Basket lines for every purchase.

    ``favourite`` is each purchase's customer's favourite item index (-1 = none).
    Returns ``(purchase, item, quantity)`` arrays sorted by purchase then item, one row
    per distinct item in a basket.
    """
    n = month.size
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    n_slots = np.zeros(n, dtype=np.int64)
    for k, (counts, probs) in _SLOTS.items():
        sel = kind == k
        if sel.any():
            n_slots[sel] = rng.choice(counts, size=int(sel.sum()), p=probs)
    purchase = np.repeat(np.arange(n), n_slots)
    position = np.arange(purchase.size) - np.repeat(np.cumsum(n_slots) - n_slots, n_slots)
    family = (kind[purchase] == 1).astype(np.int64)
    cum = weight_table().cumsum(axis=-1)
    rows = cum[month[purchase] - 1, daypart(minute[purchase]), family]
    u = rng.random(purchase.size)[:, None]
    item = np.minimum((rows < u).sum(axis=1), N_ITEMS - 1)
    first = position == 0
    fav = favourite[purchase]
    use_fav = first & (fav >= 0) & (rng.random(purchase.size) < 0.6)
    item = np.where(use_fav, fav, item)
    # regulars switch their favourite to the iced (summer) or hot (winter) twin
    m = month[purchase]
    for hot, iced in _TWINS:
        to_iced = use_fav & (item == hot) & np.isin(m, _SUMMER) & (rng.random(item.size) < 0.6)
        to_hot = use_fav & (item == iced) & np.isin(m, (12, 1, 2)) & (rng.random(item.size) < 0.4)
        item = np.where(to_iced, iced, np.where(to_hot, hot, item))
    treat = first & (kind[purchase] == 3) & (rng.random(purchase.size) < 0.75)
    treat &= np.isin(month[purchase], _SUMMER)
    item = np.where(treat, rng.choice(SUMMER_TREAT_ITEMS, size=purchase.size), item)
    qty = np.where(
        family == 1,
        rng.choice([1, 2, 3], size=purchase.size, p=[0.55, 0.38, 0.07]),
        rng.choice([1, 2, 3], size=purchase.size, p=[0.90, 0.08, 0.02]),
    )
    keys, inverse = np.unique(purchase * N_ITEMS + item, return_inverse=True)
    quantity = np.bincount(inverse, weights=qty).astype(np.int64)
    return keys // N_ITEMS, keys % N_ITEMS, quantity
