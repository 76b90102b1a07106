"""Demo residents of 日和市: ≈1,000 people with believable lives, entered through the use cases.

Why through the use cases and not with inserts: the demo is the first thing a municipality sees,
so every row must be one the real system could have written — history rows with 履歴番号, the
household projection, outbox events and a verifying audit chain. Seeding through `service` also
makes the seeder a broad smoke test of the register: a use case that refuses realistic input
shows up here first.

How: a planner (pure, driven by one `random.Random(seed)`) writes a story per household — move-in,
births, a daughter-in-law joining, a 転居, a death with 世帯主変更, a child leaving for Tokyo, a
corrected フリガナ — as dated events. The executor replays each household's story in one unit of
work, with a `Context` whose clock is the simulated processing time (a few days after the legal
date), so 異動日 and 処理日 differ the way they do at a real counter. Everything happens on or
before `BASE_DATE`, a fixed day in the past, so the same seed gives the same register whatever
day it runs (atena numbers included, on a fresh tenant).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from kikan.calendar import RegisterDate, format_wareki
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.crypto import KeyRing
from kikan.platform.ids import juminhyo_code_check_digit, my_number_check_digit
from kikan.platform.uow import Database, UnitOfWork
from kikan.residents import service
from kikan.residents.certificates.demo import seed_certificate_settings
from kikan.residents.domain import (
    Address,
    ForeignResident,
    Honseki,
    OtherAddress,
    PersonInput,
    Reason,
    Status,
)
from kikan.residents.store import CurrentRow

JST = ZoneInfo("Asia/Tokyo")
#: The demo's "today": every simulated 異動 and 処理日 is on or before it (令和8年4月1日).
BASE_DATE = date(2026, 4, 1)
ACTOR = audit.Actor(kind="system", id="kikan-demo", terminal="demo-seed", place="日和市役所市民課")
CITY_CODE = "992011"
PREFECTURE = "架空県"
CITY = "日和市"

# ---------------------------------------------------------------- name data

# fmt: off
#: (氏, フリガナ). Common family names, weighted by repetition of the list order.
FAMILY_NAMES: list[tuple[str, str]] = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
    ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
    ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"),
    ("阿部", "アベ"), ("石川", "イシカワ"), ("山下", "ヤマシタ"), ("中島", "ナカジマ"),
    ("石井", "イシイ"), ("小川", "オガワ"), ("前田", "マエダ"), ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"), ("藤田", "フジタ"), ("後藤", "ゴトウ"), ("近藤", "コンドウ"),
    ("村上", "ムラカミ"), ("遠藤", "エンドウ"), ("青木", "アオキ"), ("坂本", "サカモト"),
    ("菅原", "スガワラ"), ("福田", "フクダ"), ("太田", "オオタ"), ("西村", "ニシムラ"),
    ("藤井", "フジイ"), ("金子", "カネコ"), ("岡本", "オカモト"), ("藤原", "フジワラ"),
    ("三浦", "ミウラ"), ("中野", "ナカノ"), ("原田", "ハラダ"), ("小野", "オノ"),
    ("竹内", "タケウチ"), ("和田", "ワダ"), ("中山", "ナカヤマ"), ("石田", "イシダ"),
    ("上田", "ウエダ"), ("森田", "モリタ"), ("柴田", "シバタ"), ("酒井", "サカイ"),
    ("工藤", "クドウ"), ("横山", "ヨコヤマ"), ("宮崎", "ミヤザキ"), ("宮本", "ミヤモト"),
    ("内田", "ウチダ"), ("高木", "タカギ"), ("安藤", "アンドウ"), ("谷口", "タニグチ"),
    ("大野", "オオノ"), ("丸山", "マルヤマ"), ("今井", "イマイ"), ("河野", "コウノ"),
    ("杉山", "スギヤマ"), ("千葉", "チバ"), ("岩崎", "イワサキ"), ("桜井", "サクライ"),
    ("野口", "ノグチ"), ("菊地", "キクチ"), ("日和田", "ヒワダ"), ("春日", "カスガ"),
]
#: Family names written with characters outside JIS X 0208 or as old forms (異体字), including
#: 渡邉 with an MJ IVS selector (U+E010F): the cases every 文字 layer must survive.
RARE_FAMILY_NAMES: list[tuple[str, str]] = [
    ("𠮷田", "ヨシダ"), ("髙橋", "タカハシ"), ("山﨑", "ヤマザキ"), ("渡邉", "ワタナベ"),
    ("齋藤", "サイトウ"), ("渡邉\U000e010f", "ワタナベ"), ("邉見", "ヘンミ"),
]

#: Given names by birth cohort: (upper bound of birth year, male names, female names).
GIVEN_NAMES: list[tuple[int, list[tuple[str, str]], list[tuple[str, str]]]] = [
    (1945, [
        ("茂", "シゲル"), ("清", "キヨシ"), ("勇", "イサム"), ("実", "ミノル"), ("博", "ヒロシ"),
        ("進", "ススム"), ("正雄", "マサオ"), ("三郎", "サブロウ"), ("武", "タケシ"),
        ("勝", "マサル"),
    ], [
        ("和子", "カズコ"), ("幸子", "サチコ"), ("節子", "セツコ"), ("久子", "ヒサコ"),
        ("文子", "フミコ"), ("千代子", "チヨコ"), ("ハル", "ハル"), ("キヨ", "キヨ"),
        ("トミ", "トミ"), ("静子", "シズコ"),
    ]),
    (1970, [
        ("誠", "マコト"), ("浩", "ヒロシ"), ("隆", "タカシ"), ("修", "オサム"),
        ("健一", "ケンイチ"), ("和夫", "カズオ"), ("哲也", "テツヤ"), ("正", "タダシ"),
        ("明", "アキラ"), ("秀樹", "ヒデキ"),
    ], [
        ("恵子", "ケイコ"), ("洋子", "ヨウコ"), ("京子", "キョウコ"), ("由美子", "ユミコ"),
        ("美智子", "ミチコ"), ("順子", "ジュンコ"), ("裕子", "ユウコ"), ("真由美", "マユミ"),
        ("直美", "ナオミ"), ("久美子", "クミコ"),
    ]),
    (1995, [
        ("大輔", "ダイスケ"), ("拓也", "タクヤ"), ("健太", "ケンタ"), ("直樹", "ナオキ"),
        ("翔太", "ショウタ"), ("達也", "タツヤ"), ("和也", "カズヤ"), ("剛", "ツヨシ"),
        ("亮", "リョウ"), ("雄一", "ユウイチ"),
    ], [
        ("愛", "アイ"), ("恵", "メグミ"), ("智子", "トモコ"), ("陽子", "ヨウコ"), ("美穂", "ミホ"),
        ("彩", "アヤ"), ("舞", "マイ"), ("麻衣", "マイ"), ("香織", "カオリ"), ("綾香", "アヤカ"),
    ]),
    (9999, [
        ("蓮", "レン"), ("陽翔", "ハルト"), ("湊", "ミナト"), ("悠真", "ユウマ"),
        ("大翔", "ヒロト"), ("蒼", "アオイ"), ("樹", "イツキ"), ("悠人", "ユウト"),
        ("颯太", "ソウタ"), ("陸", "リク"),
    ], [
        ("陽葵", "ヒマリ"), ("結衣", "ユイ"), ("葵", "アオイ"), ("凛", "リン"), ("芽依", "メイ"),
        ("結菜", "ユイナ"), ("さくら", "サクラ"), ("美咲", "ミサキ"), ("莉子", "リコ"),
        ("紬", "ツムギ"),
    ]),
]
# fmt: on


@dataclass(frozen=True)
class Nationality:
    """A nationality's naming customs: kanji names (中国・韓国) or alphabet only."""

    code: str  # country.toml
    families: list[tuple[str, str, str]]  # (氏 as written, フリガナ, roman)
    male: list[tuple[str, str, str]]
    female: list[tuple[str, str, str]]
    kanji: bool
    abroad: str  # 国外住所 for a 国外転入


# fmt: off
NATIONALITIES: list[Nationality] = [
    Nationality(
        "704",
        [("NGUYEN", "グエン", "NGUYEN"), ("TRAN", "チャン", "TRAN"), ("LE", "レ", "LE"),
         ("PHAM", "ファム", "PHAM")],
        [("VAN AN", "ヴァン アン", "VAN AN"), ("DUC MINH", "ドゥック ミン", "DUC MINH"),
         ("QUANG HUY", "クアン フイ", "QUANG HUY")],
        [("THI LAN", "ティ ラン", "THI LAN"), ("THI HOA", "ティ ホア", "THI HOA"),
         ("NGOC ANH", "ゴック アイン", "NGOC ANH")],
        False,
        "Ha Noi, Viet Nam",
    ),
    Nationality(
        "156",
        [("王", "ワン", "WANG"), ("李", "リ", "LI"), ("張", "チャン", "ZHANG"),
         ("劉", "リュウ", "LIU")],
        [("偉", "ウェイ", "WEI"), ("浩然", "ハオラン", "HAORAN"), ("俊傑", "ジュンジエ", "JUNJIE")],
        [("芳", "ファン", "FANG"), ("静", "ジン", "JING"), ("雪梅", "シュエメイ", "XUEMEI")],
        True,
        "Shanghai, China",
    ),
    Nationality(
        "608",
        [("SANTOS", "サントス", "SANTOS"), ("REYES", "レイエス", "REYES"),
         ("CRUZ", "クルーズ", "CRUZ")],
        [("JOSE MIGUEL", "ホセ ミゲル", "JOSE MIGUEL"),
         ("MARK ANTHONY", "マーク アンソニー", "MARK ANTHONY")],
        [("MARIA CLARA", "マリア クララ", "MARIA CLARA"), ("JOY", "ジョイ", "JOY")],
        False,
        "Quezon City, Philippines",
    ),
    Nationality(
        "076",
        [("SILVA", "シルバ", "SILVA"), ("OLIVEIRA", "オリベイラ", "OLIVEIRA")],
        [("JOÃO PEDRO", "ジョアン ペドロ", "JOAO PEDRO"), ("LUCAS", "ルーカス", "LUCAS")],
        [("ANA PAULA", "アナ パウラ", "ANA PAULA"), ("JULIANA", "ジュリアナ", "JULIANA")],
        False,
        "São Paulo, Brasil",
    ),
    Nationality(
        "524",
        [("GURUNG", "グルン", "GURUNG"), ("TAMANG", "タマン", "TAMANG")],
        [("BIKASH", "ビカシュ", "BIKASH"), ("RAJESH", "ラジェシュ", "RAJESH")],
        [("SITA", "シタ", "SITA"), ("ANJALI", "アンジャリ", "ANJALI")],
        False,
        "Kathmandu, Nepal",
    ),
    Nationality(
        "840",
        [("SMITH", "スミス", "SMITH"), ("JOHNSON", "ジョンソン", "JOHNSON")],
        [("JOHN MICHAEL", "ジョン マイケル", "JOHN MICHAEL")],
        [("EMILY", "エミリー", "EMILY")],
        False,
        "Seattle, WA, USA",
    ),
]
KOREA = Nationality(
    "410",
    [("金", "キム", "KIM"), ("朴", "パク", "PARK"), ("李", "イ", "LEE"), ("崔", "チェ", "CHOI")],
    [("英洙", "ヨンス", "YOUNGSOO"), ("成浩", "ソンホ", "SEONGHO"),
     ("正一", "ジョンイル", "JEONGIL"), ("昌植", "チャンシク", "CHANGSIK"),
     ("東春", "ドンチュン", "DONGCHUN")],
    [("順子", "スンジャ", "SOONJA"), ("美英", "ミヨン", "MIYOUNG"),
     ("貞姫", "ジョンヒ", "JEONGHEE"), ("英子", "ヨンジャ", "YOUNGJA"),
     ("玉順", "オクスン", "OKSOON")],
    True,
    "Seoul, Korea",
)
# fmt: on
#: 通称 used by 特別永住者 (申出による通称の記載, spec 1.1.7).
TSUUSHOU_FAMILY = {"金": ("金田", "カネダ"), "朴": ("新井", "アライ"), "李": ("李家", "リノイエ")}

# ---------------------------------------------------------------- address data


@dataclass(frozen=True)
class Town:
    name: str
    code: str  # 町字コード (7 digits)
    postal: str
    district: str  # 地区管理コード
    jukyo: bool  # 住居表示実施区域 (番・号) or 地番区域 (番地)


TOWNS: list[Town] = [
    Town("本町一丁目", "0010001", "999-0011", "01", True),
    Town("本町二丁目", "0010002", "999-0012", "01", True),
    Town("日和台一丁目", "0020001", "999-0021", "02", True),
    Town("日和台二丁目", "0020002", "999-0022", "02", True),
    Town("日和台三丁目", "0020003", "999-0023", "02", True),
    Town("松町一丁目", "0030001", "999-0031", "03", True),
    Town("松町二丁目", "0030002", "999-0032", "03", True),
    Town("桜ケ丘", "0040000", "999-0040", "04", False),
    Town("港町", "0050000", "999-0050", "05", False),
    Town("大字東浦", "0060000", "999-0060", "06", False),
    Town("大字西谷", "0070000", "999-0070", "06", False),
    Town("字上野", "0080000", "999-0080", "07", False),
]
APARTMENTS = [
    ("日和ハイツ", "ヒヨリハイツ"),
    ("コーポ松風", "コーポマツカゼ"),
    ("市営日和台団地", "シエイヒヨリダイダンチ"),
    ("メゾン桜ケ丘", "メゾンサクラガオカ"),
    ("港町レジデンス", "ミナトマチレジデンス"),
]
#: A company dormitory where technical interns live, one household each.
DORMITORY = ("日和精工第二寮", "ヒヨリセイコウダイニリョウ")
OTHER_CITIES = [
    ("東京都", "世田谷区", "三軒茶屋二丁目", "11番23号"),
    ("東京都", "千代田区", "千代田", "1番1号"),
    ("大阪府", "大阪市北区", "梅田一丁目", "3番1号"),
    ("神奈川県", "横浜市中区", "山下町", "27番地"),
    ("愛知県", "名古屋市中区", "栄三丁目", "5番12号"),
    ("福岡県", "福岡市博多区", "博多駅前二丁目", "1番1号"),
    ("架空県", "月見市", "中央一丁目", "2番3号"),
    ("架空県", "朝霧町", "大字本郷", "1234番地"),
    ("北海道", "札幌市中央区", "北一条西二丁目", "1番地"),
]

# ---------------------------------------------------------------- plan


@dataclass
class PlannedPerson:
    """A person in a household's story, before the register has given them a 宛名番号."""

    person: PersonInput
    birth: date
    my_number: str


@dataclass
class Event:
    """One dated step of a household's story; `run` calls one use case."""

    day: date  # 異動日 (legal date)
    run: Callable[[UnitOfWork, Context, HouseholdState], None]
    order: int = 0  # tie-break for events on the same day (plan order)


@dataclass
class HouseholdState:
    """What the executor learns while replaying a story: who got which 宛名番号."""

    atena: dict[int, str] = field(default_factory=dict)
    household: str = ""
    active: set[int] = field(default_factory=set)


@dataclass
class HouseholdPlan:
    events: list[Event] = field(default_factory=list)
    active_count: int = 0


def _processing_time(rng: random.Random, day: date, after: datetime | None) -> datetime:
    """The 処理日時 of an event filed on `day`: a few office hours/days later, after `after`."""
    delay = min(rng.choice((0, 0, 1, 2, 3, 5, 7)), max(0, (BASE_DATE - day).days))
    clock = time(rng.randint(9, 16), rng.randint(0, 59))
    at = datetime.combine(day + timedelta(days=delay), clock, JST).astimezone(UTC)
    if after is not None and at <= after:
        at = after + timedelta(minutes=rng.randint(1, 20))
    return at


class Planner:
    """Writes deterministic household stories from one seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible fiction, not secrets
        self.used_facts: set[tuple[str, date, str]] = set()
        self.used_addresses: set[str] = set()
        self.support_measure_planned = False
        self.forced_family: tuple[str, str] | None = None

    # -- small generators

    def day_between(self, start: date, end: date) -> date:
        if end <= start:
            return start
        return start + timedelta(days=self.rng.randint(0, (end - start).days))

    def birth_for_age(self, low: int, high: int) -> date:
        start = BASE_DATE.replace(year=BASE_DATE.year - high - 1) + timedelta(days=1)
        end = BASE_DATE.replace(year=BASE_DATE.year - low)
        return self.day_between(start, end)

    def family_name(self) -> tuple[str, str]:
        if self.forced_family is not None:
            forced, self.forced_family = self.forced_family, None
            return forced
        if self.rng.random() < 0.06:
            return self.rng.choice(RARE_FAMILY_NAMES)
        return self.rng.choice(FAMILY_NAMES)

    def given_name(self, sex: str, birth: date) -> tuple[str, str]:
        for upper, male, female in GIVEN_NAMES:
            if birth.year <= upper:
                return self.rng.choice(male if sex == "1" else female)
        raise AssertionError("unreachable")

    def address(
        self, *, town: Town | None = None, katagaki: tuple[str, str] | None = None
    ) -> Address:
        """A fresh address in 日和市 (never one already used by another household)."""
        while True:
            t = town or self.rng.choice(TOWNS)
            if t.jukyo:
                banchi = f"{self.rng.randint(1, 30)}番{self.rng.randint(1, 40)}号"
            elif self.rng.random() < 0.3:
                banchi = f"{self.rng.randint(1, 2999)}番地の{self.rng.randint(1, 9)}"
            else:
                banchi = f"{self.rng.randint(1, 2999)}番地"
            kata, kata_kana = "", ""
            if katagaki is not None:
                room = f"{self.rng.randint(1, 3)}{self.rng.randint(1, 12):02d}号室"
                kata, kata_kana = f"{katagaki[0]}{room}", katagaki[1]
            elif self.rng.random() < 0.2:
                name, kana = self.rng.choice(APARTMENTS)
                kata = f"{name}{self.rng.randint(1, 4)}{self.rng.randint(1, 8):02d}号室"
                kata_kana = kana
            addr = Address(
                city_code=CITY_CODE,
                town_code=t.code,
                prefecture=PREFECTURE,
                city=CITY,
                town=t.name,
                banchi=banchi,
                katagaki=kata,
                katagaki_kana=kata_kana,
                postal_code=t.postal,
            )
            if addr.text() not in self.used_addresses:
                self.used_addresses.add(addr.text())
                return addr

    def other_address(self) -> OtherAddress:
        pref, city, town, banchi = self.rng.choice(OTHER_CITIES)
        return OtherAddress(address=Address(prefecture=pref, city=city, town=town, banchi=banchi))

    def honseki(self, head_family: str, head_given: str) -> Honseki:
        if self.rng.random() < 0.55:
            town = self.rng.choice(TOWNS)
            return Honseki(
                prefecture=PREFECTURE,
                city=CITY,
                town=town.name,
                chiban=f"{self.rng.randint(1, 2999)}番地",
                head_family_name=head_family,
                head_given_name=head_given,
            )
        pref, city, town_name, _ = self.rng.choice(OTHER_CITIES)
        return Honseki(
            prefecture=pref,
            city=city,
            town=town_name,
            chiban=f"{self.rng.randint(1, 999)}番地",
            head_family_name=head_family,
            head_given_name=head_given,
        )

    def identifiers(self) -> tuple[str, str]:
        """(住民票コード, 個人番号) with valid check digits; always drawn, so the random stream
        (and therefore every name) is the same with or without a My Number key ring."""
        jbody = f"{self.rng.randint(0, 10**10 - 1):010d}"
        mbody = f"{self.rng.randint(10**10, 10**11 - 1):011d}"
        return (
            jbody + str(juminhyo_code_check_digit(jbody)),
            mbody + str(my_number_check_digit(mbody)),
        )

    def unique(self, family: str, given: str, birth: date, sex: str) -> bool:
        """Refuse duplicate basic facts: `move_in` treats a match with a former resident as a
        再転入 and would reuse that person's 宛名番号."""
        key = (family + given, birth, sex)
        if key in self.used_facts:
            return False
        self.used_facts.add(key)
        return True

    def japanese(
        self,
        *,
        family: tuple[str, str],
        sex: str,
        birth: date,
        zokugara: str,
        honseki: Honseki | None,
        unknown_birth: bool = False,
    ) -> PlannedPerson:
        while True:
            given = self.given_name(sex, birth)
            if self.unique(family[0], given[0], birth, sex):
                break
            birth += timedelta(days=1)
        birth_text = format_wareki(birth)
        if unknown_birth:
            # 不詳日 (spec 1.1.8): old residents whose 戸籍 gives only an approximate date
            birth_text = self.rng.choice(
                (
                    f"{format_wareki(birth).split('年')[0]}年頃",
                    f"推定{format_wareki(birth).split('年')[0]}年",
                    f"{format_wareki(birth).split('月')[0]}月頃",
                )
            )
        jcode, mynumber = self.identifiers()
        person = PersonInput(
            family_name=family[0],
            given_name=given[0],
            family_name_kana=family[1],
            given_name_kana=given[1],
            sex=sex,
            birth_date=birth_text,
            zokugara=zokugara,
            honseki=honseki or self.honseki(family[0], given[0]),
            juminhyo_code=jcode,
        )
        return PlannedPerson(person, birth, mynumber)

    def foreigner(
        self,
        nat: Nationality,
        *,
        sex: str,
        birth: date,
        zokugara: str,
        family: tuple[str, str, str] | None = None,
        article: str = "1",
        status: str = "",
        since: date,
        newborn: bool = False,
    ) -> PlannedPerson:
        while True:
            fam = family or self.rng.choice(nat.families)
            given = self.rng.choice(nat.male if sex == "1" else nat.female)
            if self.unique(fam[0], given[0], birth, sex):
                break
            birth += timedelta(days=1)
        expiry = ""
        period = ""
        card = ""
        if article == "1" and status != "601":
            years = self.rng.choice((1, 3, 5))
            period = f"{years}年"
            expiry = (BASE_DATE + timedelta(days=self.rng.randint(60, 365 * years))).isoformat()
        if article in ("1", "2"):
            letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
            card = (
                "".join(self.rng.choice(letters) for _ in range(2))
                + f"{self.rng.randint(0, 10**8 - 1):08d}"
                + "".join(self.rng.choice(letters) for _ in range(2))
            )
        if newborn:
            card = ""
        tsuushou, tsuushou_kana = "", ""
        if article == "2" and fam[0] in TSUUSHOU_FAMILY and self.rng.random() < 0.7:
            tf, tk = TSUUSHOU_FAMILY[fam[0]]
            jg, jk = self.given_name(sex, birth)
            tsuushou, tsuushou_kana = f"{tf}　{jg}", f"{tk}　{jk}"
        jcode, mynumber = self.identifiers()
        roman = f"{fam[2]} {given[2]}"
        person = PersonInput(
            family_name=fam[0],
            given_name=given[0],
            family_name_kana=fam[1],
            given_name_kana=given[1],
            roman_name=roman,
            foreign_kanji_name=f"{fam[0]}　{given[0]}" if nat.kanji else "",
            tsuushou=tsuushou,
            tsuushou_kana=tsuushou_kana,
            sex=sex,
            birth_date=f"{birth.year}年{birth.month}月{birth.day}日",  # 西暦 (spec 1.1.2)
            zokugara=zokugara,
            resident_kind="2",
            foreign=ForeignResident(
                nationality=nat.code,
                article_30_45=article,
                status_of_residence=status,
                period_of_stay=period,
                expiry_date=expiry,
                card_number=card,
                became_foreign_resident=since.isoformat(),
            ),
            juminhyo_code=jcode,
        )
        return PlannedPerson(person, birth, mynumber)

    # -- household stories

    def plan(self, index: int) -> HouseholdPlan:
        """The story of the `index`-th household. The first few are a fixed showcase, so even
        a small seed has the 支援措置 case, an IVS name, foreign and 特別永住者 households."""
        showcase = [
            self.three_generations,
            self.single_parent,
            self.foreign_household,
            self.special_permanent_residents,
        ]
        if index == 0:
            self.forced_family = RARE_FAMILY_NAMES[5]  # 渡邉 + IVS selector
        if index < len(showcase):
            return showcase[index]()
        mix: list[tuple[float, Callable[[], HouseholdPlan]]] = [
            (0.24, self.single),
            (0.40, self.couple),
            (0.71, self.family),
            (0.83, self.three_generations),
            (0.88, self.single_parent),
            (0.96, self.foreign_household),
            (1.00, self.special_permanent_residents),
        ]
        roll = self.rng.random()
        return next(make for upto, make in mix if roll < upto)()

    def single(self) -> HouseholdPlan:
        age = self.rng.choice((self.rng.randint(19, 40), self.rng.randint(19, 100)))
        sex = self.rng.choice("12")
        birth = self.birth_for_age(age, age)
        unknown = birth.year < 1940 and self.rng.random() < 0.25
        p = self.japanese(
            family=self.family_name(),
            sex=sex,
            birth=birth,
            zokugara="世帯主",
            honseki=None,
            unknown_birth=unknown,
        )
        story = Story(self, [p])
        story.move_in(self.move_in_day(birth))
        if self.rng.random() < 0.12:
            story.correct_kana(0)
        if self.rng.random() < 0.06:
            story.leave(story.later(90), [0])  # the whole household moves out
        elif age >= 88 and self.rng.random() < 0.25:
            story.death(0, story.later(30))
        return story.done()

    def couple(self) -> HouseholdPlan:
        # most couples without children at home are older (Japan's age pyramid)
        age = self.rng.choice((self.rng.randint(24, 40), self.rng.randint(58, 92)))
        family = self.family_name()
        husband_birth = self.birth_for_age(age, age)
        wife_birth = husband_birth + timedelta(days=self.rng.randint(-4 * 365, 3 * 365))
        wife_birth = min(wife_birth, self.birth_for_age(20, 20))
        unknown = husband_birth.year < 1938 and self.rng.random() < 0.3
        h = self.japanese(
            family=family,
            sex="1",
            birth=husband_birth,
            zokugara="世帯主",
            honseki=None,
            unknown_birth=unknown,
        )
        honseki = h.person.honseki
        w = self.japanese(
            family=family,
            sex="2",
            birth=wife_birth,
            zokugara=self.rng.choice(("妻",) * 9 + ("妻（未届）",)),
            honseki=honseki,
        )
        story = Story(self, [h, w])
        story.move_in(self.move_in_day(max(husband_birth, wife_birth)))
        if self.rng.random() < 0.2:
            story.move_within(story.later(200))
        if age >= 78 and self.rng.random() < 0.35:
            # the husband dies; the widow becomes 世帯主 ex officio (spec 4.0.4, one remains)
            story.death(0, story.later(60))
        if self.rng.random() < 0.05:
            story.leave(story.later(60), [0, 1])
        return story.done()

    def family(self) -> HouseholdPlan:
        family = self.family_name()
        father_age = self.rng.randint(28, 58)
        father_birth = self.birth_for_age(father_age, father_age)
        mother_birth = min(
            father_birth + timedelta(days=self.rng.randint(-3 * 365, 4 * 365)),
            self.birth_for_age(25, 25),
        )
        f = self.japanese(
            family=family, sex="1", birth=father_birth, zokugara="世帯主", honseki=None
        )
        m = self.japanese(
            family=family, sex="2", birth=mother_birth, zokugara="妻", honseki=f.person.honseki
        )
        move_day = self.move_in_day(mother_birth, min_age=24)
        children = self.children_births(mother_birth, self.rng.choice((1, 2, 2, 3)))
        early = [b for b in children if b < move_day]
        people = [f, m] + [
            self.japanese(
                family=family,
                sex=self.rng.choice("12"),
                birth=b,
                zokugara="子",
                honseki=f.person.honseki,
            )
            for b in early
        ]
        story = Story(self, people)
        story.move_in(move_day)
        for b in children:
            if b >= move_day:
                story.birth(
                    self.japanese(
                        family=family,
                        sex=self.rng.choice("12"),
                        birth=b,
                        zokugara="子",
                        honseki=f.person.honseki,
                    )
                )
        if self.rng.random() < 0.25:
            story.move_within(story.later(100))
        if self.rng.random() < 0.08:
            story.correct_kana(len(story.people) - 1)
        # a grown child leaves for work or university elsewhere (転出予定, then 確定)
        grown = [
            i
            for i, p in enumerate(story.people)
            if p.person.zokugara == "子" and (BASE_DATE - p.birth).days > 19 * 365
        ]
        if grown and self.rng.random() < 0.5:
            i = grown[0]
            leave_day = self.day_between(
                max(story.last_day, story.people[i].birth + timedelta(days=18 * 365 + 30)),
                BASE_DATE - timedelta(days=20),
            )
            story.leave(leave_day, [i])
        elif self.rng.random() < 0.04:
            story.leave(story.later(60), None)
        return story.done()

    def three_generations(self) -> HouseholdPlan:
        family = self.family_name()
        age = self.rng.randint(62, 90)
        gf_birth = self.birth_for_age(age, age)
        gm_birth = min(
            gf_birth + timedelta(days=self.rng.randint(-2 * 365, 4 * 365)),
            self.birth_for_age(58, 58),
        )
        unknown = gf_birth.year < 1936 and self.rng.random() < 0.4
        gf = self.japanese(
            family=family,
            sex="1",
            birth=gf_birth,
            zokugara="世帯主",
            honseki=None,
            unknown_birth=unknown,
        )
        gm = self.japanese(
            family=family, sex="2", birth=gm_birth, zokugara="妻", honseki=gf.person.honseki
        )
        son_birth = self.day_between(
            gm_birth + timedelta(days=24 * 365), gm_birth + timedelta(days=34 * 365)
        )
        son_birth = min(son_birth, self.birth_for_age(27, 27))
        son = self.japanese(
            family=family, sex="1", birth=son_birth, zokugara="子", honseki=gf.person.honseki
        )
        move_day = self.move_in_day(son_birth, min_age=0, latest_age=12)
        if move_day < son_birth:
            move_day = son_birth + timedelta(days=30)
        story = Story(self, [gf, gm, son])
        story.move_in(move_day)
        # the son marries: 子の妻 joins by 転入 into the household (own 戸籍, son is 筆頭者)
        marriage = self.day_between(
            max(son_birth + timedelta(days=25 * 365), move_day + timedelta(days=30)),
            min(son_birth + timedelta(days=34 * 365), BASE_DATE - timedelta(days=200)),
        )
        son_honseki = self.honseki(family[0], son.person.given_name)
        wife_birth = son_birth + timedelta(days=self.rng.randint(-3 * 365, 3 * 365))
        wife = self.japanese(
            family=family, sex="2", birth=wife_birth, zokugara="子の妻", honseki=son_honseki
        )
        story.join(marriage, [wife])
        for b in self.children_births(wife_birth, self.rng.choice((1, 2, 2)), after=marriage):
            story.birth(
                self.japanese(
                    family=family,
                    sex=self.rng.choice("12"),
                    birth=b,
                    zokugara="子の子",
                    honseki=son_honseki,
                )
            )
        if age >= 76 and self.rng.random() < 0.5:
            # the grandfather dies: 世帯主不在 with several members, then 世帯主変更 to the son
            death = story.later(30)
            story.death(0, death)
            mapping = {1: "母", 2: "世帯主", 3: "妻"}
            for i, p in enumerate(story.people):
                if p.person.zokugara == "子の子":
                    mapping[i] = "子"
            story.change_head(death + timedelta(days=self.rng.randint(3, 14)), mapping)
        return story.done()

    def single_parent(self) -> HouseholdPlan:
        family = self.family_name()
        age = self.rng.randint(26, 45)
        mother_birth = self.birth_for_age(age, age)
        mother = self.japanese(
            family=family, sex="2", birth=mother_birth, zokugara="世帯主", honseki=None
        )
        kids = self.children_births(mother_birth, self.rng.choice((1, 2)))
        recent = not self.support_measure_planned
        move_day = (
            self.day_between(BASE_DATE - timedelta(days=300), BASE_DATE - timedelta(days=120))
            if recent
            else self.move_in_day(mother_birth, min_age=22)
        )
        hon = mother.person.honseki
        children = [
            self.japanese(
                family=family, sex=self.rng.choice("12"), birth=b, zokugara="子", honseki=hon
            )
            for b in kids
        ]
        story = Story(self, [mother] + [c for c in children if c.birth < move_day])
        story.move_in(move_day)
        for c in children:
            if c.birth >= move_day:
                story.birth(c)
        if recent:
            # the one 支援措置 case of the demo (DV): protected from the former partner
            self.support_measure_planned = True
            story.support_measure(move_day + timedelta(days=self.rng.randint(5, 20)))
        return story.done()

    def foreign_household(self) -> HouseholdPlan:
        nat = self.rng.choice(NATIONALITIES)
        arrival = self.day_between(
            BASE_DATE - timedelta(days=8 * 365), BASE_DATE - timedelta(days=40)
        )
        if nat.code in ("704", "524", "360") and self.rng.random() < 0.6:
            # a technical intern / specified skilled worker in the company dormitory
            age = self.rng.randint(20, 32)
            birth = self.birth_for_age(age, age)
            status = self.rng.choice(("219", "215", "215", "401"))
            p = self.foreigner(
                nat,
                sex=self.rng.choice("12"),
                birth=birth,
                zokugara="世帯主",
                status=status,
                since=arrival,
            )
            story = Story(self, [p], address=self.address(town=TOWNS[9], katagaki=DORMITORY))
            story.move_in(arrival, abroad=nat)
            if self.rng.random() < 0.2:
                story.leave(story.later(60), [0], abroad=nat)
            return story.done()
        if nat.code == "840" and self.rng.random() < 0.7:
            # married to a Japanese national: a mixed household, the children are Japanese
            family = self.family_name()
            hb = self.birth_for_age(30, 55)
            h = self.japanese(family=family, sex="2", birth=hb, zokugara="世帯主", honseki=None)
            w = self.foreigner(
                nat,
                sex="1",
                birth=hb + timedelta(days=self.rng.randint(-900, 900)),
                zokugara="夫",
                status="602",
                since=arrival,
            )
            story = Story(self, [h, w])
            story.move_in(
                arrival,
                prior=OtherAddress(country_code=nat.code, foreign_address=nat.abroad),
                reason=Reason.FOREIGN_MOVE_IN,
            )
            for b in self.children_births(hb, 1, after=arrival):
                story.birth(
                    self.japanese(
                        family=family,
                        sex=self.rng.choice("12"),
                        birth=b,
                        zokugara="子",
                        honseki=h.person.honseki,
                    )
                )
            return story.done()
        age = self.rng.randint(27, 48)
        hb = self.birth_for_age(age, age)
        fam = self.rng.choice(nat.families)
        h = self.foreigner(
            nat,
            sex="1",
            birth=hb,
            zokugara="世帯主",
            family=fam,
            status=self.rng.choice(("210", "601", "604")),
            since=arrival,
        )
        w = self.foreigner(
            nat,
            sex="2",
            birth=hb + timedelta(days=self.rng.randint(-1500, 900)),
            zokugara="妻",
            family=fam,
            status="403",
            since=arrival,
        )
        story = Story(self, [h, w])
        story.move_in(arrival, abroad=nat)
        for b in self.children_births(hb, self.rng.choice((0, 1, 2)), after=arrival):
            # born in Japan: 経過滞在者 (出生) until a status is granted; the 出入国在留管理庁長官
            # notice then updates the entry (spec 4.5.6) — a 職権修正 60 days later
            child = self.foreigner(
                nat,
                sex=self.rng.choice("12"),
                birth=b,
                zokugara="子",
                family=fam,
                article="5",
                since=b,
                newborn=True,
            )
            story.birth(child)
            if b + timedelta(days=70) < BASE_DATE:
                story.grant_status(
                    len(story.people) - 1, b + timedelta(days=self.rng.randint(45, 70))
                )
        return story.done()

    def special_permanent_residents(self) -> HouseholdPlan:
        nat = KOREA
        age = self.rng.randint(45, 95)
        hb = self.birth_for_age(age, age)
        fam = self.rng.choice(nat.families)
        since = date(2012, 7, 9)  # 外国人住民 were entered on the register from this day
        h = self.foreigner(
            nat, sex="1", birth=hb, zokugara="世帯主", family=fam, article="2", since=since
        )
        w = self.foreigner(
            nat,
            sex="2",
            birth=hb + timedelta(days=self.rng.randint(-1000, 1500)),
            zokugara="妻",
            family=fam,
            article="2",
            since=since,
        )
        story = Story(self, [h, w])
        story.move_in(
            self.day_between(since, BASE_DATE - timedelta(days=400)), prior=self.other_address()
        )
        if self.rng.random() < 0.3:
            story.move_within(story.later(100))
        return story.done()

    # -- timing helpers

    def move_in_day(self, youngest_adult: date, *, min_age: int = 20, latest_age: int = 80) -> date:
        last = BASE_DATE - timedelta(days=45)
        start = max(youngest_adult + timedelta(days=min_age * 365), date(1975, 4, 1))
        end = min(youngest_adult + timedelta(days=latest_age * 365), last)
        return min(self.day_between(start, end), last)

    def children_births(self, mother: date, n: int, *, after: date | None = None) -> list[date]:
        out: list[date] = []
        start = max(mother + timedelta(days=23 * 365), after or date.min)
        for _ in range(n):
            end = min(mother + timedelta(days=42 * 365), BASE_DATE - timedelta(days=20))
            if start >= end:
                break
            b = self.day_between(start, min(end, start + timedelta(days=5 * 365)))
            out.append(b)
            start = b + timedelta(days=self.rng.randint(400, 1400))
        return out


class Story:
    """Builds one household's events in date order; people are referred to by index."""

    def __init__(
        self, planner: Planner, people: list[PlannedPerson], *, address: Address | None = None
    ) -> None:
        self.p = planner
        self.rng = planner.rng
        self.people = list(people)
        self.initial = len(people)
        self.address = address or planner.address()
        self.events: list[Event] = []
        self.last_day = date.min
        self.gone: set[int] = set()

    def _add(self, day: date, run: Callable[[UnitOfWork, Context, HouseholdState], None]) -> None:
        if day > BASE_DATE:
            raise AssertionError(f"demo plan bug: an event on {day} is after {BASE_DATE}")
        self.events.append(Event(day, run, len(self.events)))
        self.last_day = max(self.last_day, day)

    def later(self, min_days: int) -> date:
        """A day after everything so far (and on or before the base date)."""
        return self.p.day_between(
            min(self.last_day + timedelta(days=min_days), BASE_DATE - timedelta(days=35)),
            BASE_DATE - timedelta(days=35),
        )

    def move_in(
        self,
        day: date,
        *,
        abroad: Nationality | None = None,
        prior: OtherAddress | None = None,
        reason: Reason | None = None,
    ) -> None:
        movers = list(range(self.initial))
        if abroad is not None:
            prior = OtherAddress(country_code=abroad.code, foreign_address=abroad.abroad)
            reason = Reason.FOREIGN_MOVE_IN
        prior = prior or self.p.other_address()
        reason = reason or Reason.DOMESTIC_MOVE_IN
        address = self.address
        notified = day + timedelta(days=self.rng.randint(0, 10))

        def run(uow: UnitOfWork, ctx: Context, st: HouseholdState) -> None:
            r = service.move_in(
                uow,
                ctx,
                service.MoveIn(
                    movers=[_mover(self.people[i], ctx) for i in movers],
                    address=address,
                    prior_address=prior,
                    move_date=day,
                    notified_date=min(notified, ctx.today),
                    reason=reason,
                ),
            )
            st.household = r.household_numbers[0]
            for i, atena in zip(movers, r.atena_numbers, strict=True):
                st.atena[i] = atena
                st.active.add(i)

        self._add(day, run)

    def join(self, day: date, people: list[PlannedPerson]) -> None:
        first = len(self.people)
        self.people += people
        indexes = list(range(first, first + len(people)))
        prior = self.p.other_address()

        def run(uow: UnitOfWork, ctx: Context, st: HouseholdState) -> None:
            r = service.move_in(
                uow,
                ctx,
                service.MoveIn(
                    movers=[_mover(self.people[i], ctx) for i in indexes],
                    address=_current_address(uow, st),
                    prior_address=prior,
                    move_date=day,
                    notified_date=ctx.today,
                    join_household=st.household,
                ),
            )
            for i, atena in zip(indexes, r.atena_numbers, strict=True):
                st.atena[i] = atena
                st.active.add(i)

        self._add(day, run)

    def birth(self, child: PlannedPerson) -> None:
        index = len(self.people)
        self.people.append(child)

        def run(uow: UnitOfWork, ctx: Context, st: HouseholdState) -> None:
            r = service.record_birth(
                uow,
                ctx,
                service.RecordBirth(
                    household_number=st.household,
                    person=self.people[index].person,
                    notified_date=ctx.today,
                ),
            )
            st.atena[index] = r.atena_numbers[0]
            st.active.add(index)

        self._add(child.birth, run)

    def move_within(self, day: date) -> None:
        address = self.p.address()

        def run(uow: UnitOfWork, ctx: Context, st: HouseholdState) -> None:
            service.move_within(
                uow,
                ctx,
                service.MoveWithin(
                    household_number=st.household,
                    address=address,
                    move_date=day,
                    notified_date=ctx.today,
                ),
            )

        self._add(day, run)

    def death(self, index: int, day: date) -> None:
        self.gone.add(index)

        def run(uow: UnitOfWork, ctx: Context, st: HouseholdState) -> None:
            service.record_death(
                uow,
                ctx,
                service.RecordDeath(
                    atena_number=st.atena[index], death_date=day, notified_date=ctx.today
                ),
            )
            st.active.discard(index)

        self._add(day, run)

    def change_head(self, day: date, mapping: dict[int, str]) -> None:
        def run(uow: UnitOfWork, ctx: Context, st: HouseholdState) -> None:
            service.change_head(
                uow,
                ctx,
                service.ChangeHead(
                    household_number=st.household,
                    zokugara={st.atena[i]: z for i, z in mapping.items() if i in st.active},
                    change_date=day,
                    notified_date=ctx.today,
                ),
            )

        self._add(day, run)

    def leave(
        self, notified: date, indexes: list[int] | None, *, abroad: Nationality | None = None
    ) -> None:
        """転出届 on `notified`, moving a little later; confirmed when the 転入通知 arrives —
        except for a few recent ones that stay 転出予定 on the base date."""
        planned = notified + timedelta(days=self.rng.randint(0, 14))
        confirmed = planned + timedelta(days=self.rng.randint(3, 20))
        if abroad is not None:
            dest = OtherAddress(country_code=abroad.code, foreign_address=abroad.abroad)
        else:
            dest = self.p.other_address()
        pending = confirmed > BASE_DATE
        chosen = indexes
        leaving: list[int] = []  # who actually left, learnt when the 転出届 is entered

        def plan(uow: UnitOfWork, ctx: Context, st: HouseholdState) -> None:
            who = sorted(st.active) if chosen is None else [i for i in chosen if i in st.active]
            leaving[:] = who
            service.plan_move_out(
                uow,
                ctx,
                service.PlanMoveOut(
                    atena_numbers=[st.atena[i] for i in who],
                    destination=dest,
                    planned_date=planned,
                    notified_date=notified,
                ),
            )

        def confirm(uow: UnitOfWork, ctx: Context, st: HouseholdState) -> None:
            service.confirm_move_out(
                uow,
                ctx,
                service.ConfirmMoveOut(
                    atena_numbers=[st.atena[i] for i in leaving], moved_date=planned
                ),
            )
            for i in leaving:
                st.active.discard(i)

        self._add(notified, plan)
        if not pending:
            self._add(confirmed, confirm)
            self.gone.update(range(len(self.people)) if chosen is None else chosen)

    def correct_kana(self, index: int) -> None:
        """誤記修正: the フリガナ was mistyped at the counter (last kana wrong) and is corrected
        a few days later; the history keeps both rows."""
        right = self.people[index].person.given_name_kana
        wrong = right[:-1] + ("ヨ" if right[-1] != "ヨ" else "ユ")
        self.people[index] = PlannedPerson(
            self.people[index].person.model_copy(update={"given_name_kana": wrong}),
            self.people[index].birth,
            self.people[index].my_number,
        )
        day = self.later(3)

        def run(uow: UnitOfWork, ctx: Context, st: HouseholdState) -> None:
            service.correct(
                uow,
                ctx,
                service.Correct(
                    atena_number=st.atena[index],
                    changes={"given_name_kana": right, **_restated_birth(uow, st.atena[index])},
                    reason=Reason.CLERICAL_CORRECTION,
                    note="フリガナの入力誤りを訂正",
                ),
            )

        self._add(day, run)

    def grant_status(self, index: int, day: date) -> None:
        """職権修正 after the 出入国在留管理庁長官 notice: 経過滞在者 → 中長期在留者 (家族滞在)."""
        card = "".join(self.rng.choice("ABCDEFGH") for _ in range(2)) + (
            f"{self.rng.randint(0, 10**8 - 1):08d}"
            + "".join(self.rng.choice("JKLMN") for _ in range(2))
        )
        expiry = (day + timedelta(days=365 * 3)).isoformat()

        def run(uow: UnitOfWork, ctx: Context, st: HouseholdState) -> None:
            snap, _ = service.latest(uow, st.atena[index])
            assert snap.foreign is not None
            foreign = snap.foreign.model_copy(
                update={
                    "article_30_45": "1",
                    "status_of_residence": "403",
                    "period_of_stay": "3年",
                    "expiry_date": expiry,
                    "card_number": card,
                }
            )
            service.correct(
                uow,
                ctx,
                service.Correct(
                    atena_number=st.atena[index],
                    changes={"foreign": foreign, **_restated_birth(uow, st.atena[index])},
                    reason=Reason.EX_OFFICIO_CORRECTION,
                    note="出入国在留管理庁長官通知（在留資格の取得）",
                ),
            )

        self._add(day, run)

    def support_measure(self, day: date) -> None:
        def run(uow: UnitOfWork, ctx: Context, st: HouseholdState) -> None:
            service.start_support_measure(
                uow,
                ctx,
                service.StartSupportMeasure(
                    atena_number=st.atena[0],
                    start_date=day,
                    perpetrators=[
                        {"氏名": "加害 一郎", "続柄": "元夫", "住所": "東京都世田谷区（非表示）"}
                    ],
                    note="配偶者暴力（DV）: 警察署の意見による",
                ),
            )

        self._add(day, run)

    def done(self) -> HouseholdPlan:
        events = sorted(self.events, key=lambda e: (e.day, e.order))
        return HouseholdPlan(events, len(self.people) - len(self.gone))


def _mover(p: PlannedPerson, ctx: Context) -> service.Mover:
    return service.Mover(p.person, my_number=p.my_number if ctx.keyring is not None else None)


def _restated_birth(uow: UnitOfWork, atena: str) -> dict[str, str]:
    """The stored birth date as display text, for `service.correct`.

    Why: `correct` re-validates the snapshot with `validate_person`, which parses
    `birth_date` as *entered* text, but the snapshot holds the storage form; storage forms of
    西暦 dates ("AD2021-06-18") and 不詳日 ("S20-??-??!about") do not parse, so correcting any
    other item of such a person fails. Restating the birth date as display text avoids it.
    """
    snap, _ = service.latest(uow, atena)
    return {"birth_date": RegisterDate.from_storage(snap.birth_date).display()}


def _current_address(uow: UnitOfWork, st: HouseholdState) -> Address:
    members = service.household_members(uow, st.household)
    return members[0].address


# ---------------------------------------------------------------- seeding


def plan_households(count: int, seed: int) -> list[HouseholdPlan]:
    """Household stories until about `count` people are still residents on the base date."""
    planner = Planner(seed)
    plans: list[HouseholdPlan] = []
    active = 0
    while active < count:
        plan = planner.plan(len(plans))
        plans.append(plan)
        active += plan.active_count
    return plans


def seed_residents(
    db: Database,
    tenant: str,
    *,
    count: int = 1000,
    seed: int = 2026,
    keyring: KeyRing | None = None,
) -> int:
    """Add ≈`count` demo residents to `tenant` through the use cases; return the active count.

    Each household's story runs in its own unit of work and commits, so a long seed makes
    progress and a refused use case names the household it broke on. With a key ring, residents
    also get (fictional, check-digit-valid) 個人番号.
    """
    rng = random.Random(seed ^ 0x5EED)  # noqa: S311 - reproducible fiction, not secrets
    for plan in plan_households(count, seed):
        state = HouseholdState()
        with db.unit_of_work(tenant) as uow:
            clock: datetime | None = None
            for event in plan.events:
                clock = _processing_time(rng, event.day, clock)
                event.run(uow, Context(actor=ACTOR, now=clock, keyring=keyring), state)
            uow.commit()
    with db.unit_of_work(tenant) as uow:
        active = uow.session.scalar(
            select(func.count())
            .select_from(CurrentRow)
            .where(CurrentRow.status.in_([Status.RESIDENT, Status.MOVING_OUT]))
        )
    return int(active or 0)


def seed_demo_residents(db: Database, tenant: str, keyring: KeyRing | None) -> int:
    """`kikan demo`'s residents (the module descriptor names this seeder)."""
    return seed_residents(db, tenant, keyring=keyring)


def seed_demo_certificate_settings(db: Database, tenant: str, keyring: KeyRing | None) -> int:
    """`kikan demo`'s certificate settings (the module descriptor names this seeder)."""
    return seed_certificate_settings(db, tenant)


__all__: Sequence[str] = [
    "BASE_DATE",
    "plan_households",
    "seed_demo_certificate_settings",
    "seed_demo_residents",
    "seed_residents",
]
