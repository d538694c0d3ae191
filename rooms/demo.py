"""The demo expo: one room per pavilion, in every state, with real text in all six languages.

``seed_demo`` is idempotent: rooms are created only if their id is free (an organiser's edits
survive a restart), product cards are rewritten in place, and the welcome chat is added only to
an empty room. Times are relative to ``now`` on first seeding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from rooms.content import ProductCard
from rooms.factory import Backend
from rooms.pavilion import Pavilion
from rooms.room import Room, RoomKind, RoomState
from rooms.text import LocalizedText

LIVE_BROADCAST = "jilin-ginseng-live"
LIVE_FORUM = "northeast-asia-forum"
MEETING = "cashmere-trade-meeting"


@dataclass(frozen=True)
class _Seed:
    id: str
    kind: RoomKind
    pavilion: Pavilion
    state: RoomState
    start_h: float  # hours from now
    length_h: float
    exhibitor: str
    title: dict[str, str]
    description: dict[str, str]


SEEDS: tuple[_Seed, ...] = (
    _Seed(LIVE_BROADCAST, RoomKind.BROADCAST, Pavilion.NEW_MEDIA, RoomState.LIVE, -0.5, 2.5,
          "changbai-foods", {
              "zh": "长白山人参与吉林特产直播带货",
              "en": "Changbai Mountain Ginseng & Jilin Specialties — Live Sale",
              "ja": "長白山の高麗人参と吉林特産品 ライブ販売",
              "ko": "창바이산 인삼과 지린 특산품 라이브 판매",
              "ru": "Женьшень с гор Чанбайшань и деликатесы Цзилиня — продажи в прямом эфире",
              "mn": "Чанбайшань уулын хүн орхоодой ба Жилиний онцлог бүтээгдэхүүн — шууд худалдаа",
          }, {
              "zh": "展商现场讲解自家农场的人参、木耳和大米，直播间可直接询价。",
              "en": "The exhibitor presents ginseng, black fungus and rice from their own farms; "
                    "ask for a quote right in the broadcast.",
              "ja": "出展者が自社農場の高麗人参、キクラゲ、お米を紹介します。"
                    "配信中にそのまま見積もりを依頼できます。",
              "ko": "출품사가 자사 농장의 인삼, 목이버섯, 쌀을 소개합니다. "
                    "방송 중 바로 견적을 요청할 수 있습니다.",
              "ru": "Экспонент рассказывает о женьшене, древесных грибах и рисе со своих ферм; "
                    "запросить цену можно прямо во время эфира.",
              "mn": "Үзэсгэлэнд оролцогч өөрийн фермийн хүн орхоодой, модны мөөг, будааг "
                    "танилцуулна; нэвтрүүлгийн үеэр шууд үнийн санал хүсэх боломжтой.",
          }),
    _Seed("changchun-ev-launch", RoomKind.BROADCAST, Pavilion.AUTOMOBILE, RoomState.SCHEDULED,
          24, 1.5, "changchun-ev-works", {
              "zh": "长春新能源汽车新品发布会",
              "en": "Changchun New Energy Vehicle Launch",
              "ja": "長春 新エネルギー車 新モデル発表会",
              "ko": "창춘 신에너지 자동차 신모델 발표회",
              "ru": "Презентация новых электромобилей из Чанчуня",
              "mn": "Чанчунь хотын шинэ эрчим хүчний автомашины нээлт",
          }, {
              "zh": "直播新款电动SUV首发，工程师现场解答续航与充电问题。",
              "en": "Live premiere of a new electric SUV; engineers answer questions on range "
                    "and charging.",
              "ja": "新型電動SUVの初公開をライブ配信。航続距離や充電についてエンジニアが"
                    "質問に答えます。",
              "ko": "새 전기 SUV의 첫 공개를 생중계합니다. 엔지니어가 주행거리와 충전에 관한 "
                    "질문에 답합니다.",
              "ru": "Прямая трансляция премьеры нового электрического кроссовера; инженеры "
                    "ответят на вопросы о запасе хода и зарядке.",
              "mn": "Шинэ цахилгаан SUV-ийн нээлтийг шууд дамжуулна; инженерүүд цэнэглэлт, "
                    "явах зайн талаарх асуултад хариулна.",
          }),
    _Seed(LIVE_FORUM, RoomKind.FORUM, Pavilion.NORTHEAST_ASIA, RoomState.LIVE, -0.25, 2,
          "expo-secretariat", {
              "zh": "东北亚合作高层论坛",
              "en": "High-level Forum on Northeast Asian Cooperation",
              "ja": "北東アジア協力ハイレベルフォーラム",
              "ko": "동북아 협력 고위급 포럼",
              "ru": "Форум высокого уровня по сотрудничеству в Северо-Восточной Азии",
              "mn": "Зүүн хойд Азийн хамтын ажиллагааны дээд түвшний форум",
          }, {
              "zh": "六国代表讨论贸易便利化、物流通道与数字经济合作，观众可举手提问。",
              "en": "Delegates from six countries discuss trade facilitation, logistics "
                    "corridors and the digital economy; the audience can raise hands and ask.",
              "ja": "6か国の代表が貿易円滑化、物流回廊、デジタル経済での協力を議論します。"
                    "視聴者は挙手して質問できます。",
              "ko": "6개국 대표가 무역 원활화, 물류 회랑, 디지털 경제 협력을 논의합니다. "
                    "청중은 손을 들어 질문할 수 있습니다.",
              "ru": "Делегаты шести стран обсуждают упрощение торговли, логистические коридоры "
                    "и цифровую экономику; слушатели могут поднять руку и задать вопрос.",
              "mn": "Зургаан орны төлөөлөгчид худалдааг хялбарчлах, логистикийн коридор, "
                    "дижитал эдийн засгийн хамтын ажиллагааг хэлэлцэнэ; үзэгчид гараа өргөж "
                    "асуулт асууж болно.",
          }),
    _Seed("regional-roundtable", RoomKind.FORUM, Pavilion.REGIONS, RoomState.SCHEDULED, 3, 1.5,
          "expo-secretariat", {
              "zh": "区域合作圆桌会议",
              "en": "Regional Cooperation Roundtable",
              "ja": "地域協力円卓会議",
              "ko": "지역 협력 라운드테이블",
              "ru": "Круглый стол по региональному сотрудничеству",
              "mn": "Бүс нутгийн хамтын ажиллагааны дугуй ширээний уулзалт",
          }, {
              "zh": "各省区代表介绍对外开放项目与投资机会。",
              "en": "Provincial and regional representatives present opening-up projects and "
                    "investment opportunities.",
              "ja": "各省・地域の代表が対外開放プロジェクトと投資機会を紹介します。",
              "ko": "각 성과 지역의 대표가 대외 개방 프로젝트와 투자 기회를 소개합니다.",
              "ru": "Представители провинций и регионов рассказывают о проектах открытости и "
                    "инвестиционных возможностях.",
              "mn": "Муж, бүс нутгийн төлөөлөгчид гадаадад нээлттэй төслүүд болон хөрөнгө "
                    "оруулалтын боломжуудыг танилцуулна.",
          }),
    _Seed(MEETING, RoomKind.MEETING, Pavilion.IMPORTED_GOODS, RoomState.SCHEDULED, 1, 0.5,
          "gobi-cashmere", {
              "zh": "蒙古羊绒采购洽谈（线上对接）",
              "en": "Mongolian Cashmere Sourcing — Online Trade Meeting",
              "ja": "モンゴル産カシミヤ調達 オンライン商談",
              "ko": "몽골 캐시미어 구매 상담 — 온라인 무역 미팅",
              "ru": "Закупка монгольского кашемира — онлайн-переговоры",
              "mn": "Монгол ноолуурын худалдан авалт — цахим худалдааны уулзалт",
          }, {
              "zh": "买家与展商团队一对一洽谈，最多4人，主持人从等候室准入。",
              "en": "A one-to-one meeting between a buyer and the exhibitor's team: at most "
                    "four people, admitted by the host from the waiting room.",
              "ja": "バイヤーと出展者チームの1対1の商談。最大4名で、ホストが待合室から"
                    "入室を許可します。",
              "ko": "바이어와 출품사 팀의 1:1 미팅입니다. 최대 4명이며 호스트가 대기실에서 "
                    "입장을 허락합니다.",
              "ru": "Встреча покупателя с командой экспонента один на один: не более четырёх "
                    "участников, хозяин впускает их из зала ожидания.",
              "mn": "Худалдан авагч ба үзэсгэлэнд оролцогчийн багийн ганцаарчилсан уулзалт: "
                    "дээд тал нь дөрвөн хүн, зохион байгуулагч хүлээлгийн өрөөнөөс оруулна.",
          }),
    _Seed("satellite-showcase", RoomKind.BROADCAST, Pavilion.SCIENCE_TECH, RoomState.SCHEDULED,
          5, 1, "jilin-space-tech", {
              "zh": "吉林卫星遥感技术展示",
              "en": "Jilin Satellite Remote-Sensing Showcase",
              "ja": "吉林 衛星リモートセンシング技術展示",
              "ko": "지린 위성 원격탐사 기술 쇼케이스",
              "ru": "Спутниковое дистанционное зондирование из Цзилиня: демонстрация технологий",
              "mn": "Жилинийн хиймэл дагуулын зайнаас тандан судлах технологийн танилцуулга",
          }, {
              "zh": "展示商业遥感卫星如何服务农业、林业与城市规划。",
              "en": "How commercial remote-sensing satellites serve agriculture, forestry and "
                    "city planning.",
              "ja": "商業リモートセンシング衛星が農業、林業、都市計画にどう役立つかを紹介します。",
              "ko": "상업용 원격탐사 위성이 농업, 임업, 도시 계획에 어떻게 쓰이는지 보여 줍니다.",
              "ru": "Как коммерческие спутники дистанционного зондирования помогают сельскому и "
                    "лесному хозяйству и городскому планированию.",
              "mn": "Арилжааны зайнаас тандан судлах хиймэл дагуул хөдөө аж ахуй, ойн аж ахуй, "
                    "хот төлөвлөлтөд хэрхэн тусалдгийг үзүүлнэ.",
          }),
    _Seed("jilin-ice-snow", RoomKind.BROADCAST, Pavilion.JILIN, RoomState.ENDED, -26, 1.5,
          "jilin-tourism", {
              "zh": "吉林冰雪旅游推介会",
              "en": "Jilin Ice and Snow Tourism Showcase",
              "ja": "吉林 氷雪観光プロモーション",
              "ko": "지린 빙설 관광 설명회",
              "ru": "Презентация зимнего туризма в Цзилине",
              "mn": "Жилинийн мөс, цасны аялал жуулчлалын танилцуулга",
          }, {
              "zh": "长白山滑雪场、雾凇与温泉线路介绍（回放）。",
              "en": "Ski resorts, rime-ice scenery and hot springs around Changbai Mountain "
                    "(replay).",
              "ja": "長白山周辺のスキー場、樹氷、温泉を巡るルートを紹介します（アーカイブ）。",
              "ko": "창바이산 주변의 스키장, 상고대 풍경, 온천 코스를 소개합니다(다시 보기).",
              "ru": "Горнолыжные курорты, деревья в инее и горячие источники у гор Чанбайшань "
                    "(запись).",
              "mn": "Чанбайшань уулын орчмын цанын бааз, цантай модны үзэсгэлэн, халуун "
                    "рашааны аялал (бичлэг).",
          }),
)

PRODUCTS: tuple[tuple[str, str, bool, dict[str, str]], ...] = (
    ("ginseng-gift-box", "398.00", False, {
        "zh": "长白山人参礼盒", "en": "Changbai Mountain ginseng gift box",
        "ja": "長白山高麗人参ギフトボックス", "ko": "창바이산 인삼 선물 세트",
        "ru": "Подарочный набор женьшеня с гор Чанбайшань",
        "mn": "Чанбайшаний хүн орхоодойн бэлгийн хайрцаг"}),
    ("black-fungus-500g", "68.00", False, {
        "zh": "东北黑木耳 500克", "en": "Northeast black fungus, 500 g",
        "ja": "東北産キクラゲ 500g", "ko": "동북 목이버섯 500g",
        "ru": "Древесные грибы с Северо-Востока Китая, 500 г",
        "mn": "Зүүн хойд нутгийн хар модны мөөг, 500 г"}),
    ("jilin-rice-5kg", "89.00", True, {
        "zh": "吉林大米 5公斤（可批发询价）", "en": "Jilin rice, 5 kg (wholesale quotes)",
        "ja": "吉林産米 5kg（卸売見積もり可）", "ko": "지린 쌀 5kg (도매 견적 가능)",
        "ru": "Рис из Цзилиня, 5 кг (оптовые цены по запросу)",
        "mn": "Жилинь будаа, 5 кг (бөөний үнийн санал)"}),
)

# Who hosts each demo room, in each language (shown for the host everywhere: issue 12).
HOST_NAMES: dict[str, dict[str, str]] = {
    "changbai-foods": {"zh": "长白山食品", "en": "Changbai Foods", "ja": "長白山食品",
                       "ko": "창바이 식품", "ru": "Чанбай Фудс", "mn": "Чанбай Фүүдс"},
    "changchun-ev-works": {"zh": "长春新能源汽车", "en": "Changchun EV Works",
                           "ja": "長春新エネルギー車", "ko": "창춘 전기차",
                           "ru": "Чанчунь Электромобили", "mn": "Чанчунь Цахилгаан Машин"},
    "expo-secretariat": {"zh": "博览会秘书处", "en": "Expo Secretariat", "ja": "博覧会事務局",
                         "ko": "박람회 사무국", "ru": "Секретариат ЭКСПО",
                         "mn": "Экспогийн нарийн бичгийн алба"},
    "gobi-cashmere": {"zh": "戈壁羊绒", "en": "Gobi Cashmere", "ja": "ゴビ・カシミヤ",
                      "ko": "고비 캐시미어", "ru": "Гоби Кашемир", "mn": "Говь Кашемир"},
    "jilin-space-tech": {"zh": "吉林航天科技", "en": "Jilin Space Technology",
                         "ja": "吉林宇宙技術", "ko": "지린 우주기술",
                         "ru": "Цзилинь Космические технологии", "mn": "Жилинь Сансрын Технологи"},
    "jilin-tourism": {"zh": "吉林文旅", "en": "Jilin Tourism", "ja": "吉林観光", "ko": "지린 관광",
                      "ru": "Туризм Цзилиня", "mn": "Жилинь Аялал Жуулчлал"},
}

WELCOME = (
    ("changbai-foods", "长白山食品", "欢迎来到直播间！有问题请随时提问。"),
    ("changbai-foods", "Changbai Foods", "Welcome! Ask us anything about our products."),
)


def _room(seed: _Seed, now: datetime) -> Room:
    start = now + timedelta(hours=seed.start_h)
    return Room(id=seed.id, kind=seed.kind, pavilion=seed.pavilion,
                title=LocalizedText(seed.title), description=LocalizedText(seed.description),
                exhibitor=seed.exhibitor, starts_at=start,
                host_name=LocalizedText(HOST_NAMES.get(seed.exhibitor, {})),
                ends_at=start + timedelta(hours=seed.length_h), state=seed.state,
                capacity=4 if seed.kind is RoomKind.MEETING else None,
                # issue 17: the demo forum announces interpretation into the expo's languages
                interpretation=("zh", "en", "ja", "ko", "ru", "mn")
                if seed.kind is RoomKind.FORUM else ())


async def seed_demo(backend: Backend, *, now: datetime) -> None:
    """Create the demo rooms if absent; refresh their product cards; greet an empty chat."""
    if now.utcoffset() is None:
        raise ValueError("seed_demo needs an aware datetime")
    store = backend.store
    for seed in SEEDS:
        await store.create_room(_room(seed, now))
    for product_id, price, quote, name in PRODUCTS:
        await store.put_product(ProductCard(
            id=product_id, room_id=LIVE_BROADCAST, name=LocalizedText(name),
            price=Decimal(price), currency="CNY", request_quote=quote,
            picture_url=f"/static/demo/{product_id}.jpg",
            link=f"https://expo.example/products/{product_id}"))
    await store.pin_product(LIVE_BROADCAST, PRODUCTS[0][0], max_pinned=3)
    if not await store.chat_page(LIVE_BROADCAST, limit=1):
        for sender, shown, text in WELCOME:
            await store.append_chat(LIVE_BROADCAST, sender=sender, name=shown, text=text,
                                    sent_at=now.timestamp())
