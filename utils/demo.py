"""A demo source: a table of synthetic Chinese posts over one year, for `make run`, tests and bench."""

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Engine, Index, MetaData, String, Table, Text, insert

from utils.db.tables import BigId

DEMO_YEAR_START = datetime(2026, 1, 1)

_TOPICS = [
    "今天的足球比赛太精彩了",
    "湖人队在NBA季后赛赢了",
    "世界杯预选赛中国队加油",
    "篮球场上人山人海",
    "股市今天大涨，好几只股票涨停",
    "基金经理说下半年要谨慎理财",
    "新款手机用上了国产芯片",
    "人工智能改变了我们的工作方式",
    "5G网络覆盖越来越广",
    "周末和朋友去吃火锅",
    "这家餐厅的奶茶很好喝",
    "假期订了机票和酒店去旅游",
    "这个景区人太多了",
    "下雨天只想在家睡觉",
    "今天上班又迟到了",
    "新电影的票房破纪录",
    "孩子考试考了第一名",
    "小区门口新开了一家书店",
]
_FILLERS = [
    "真的",
    "感觉",
    "大家怎么看",
    "哈哈哈",
    "转发一下",
    "说实话",
    "我觉得",
    "太棒了",
    "无语",
    "😂",
    "👍",
    "🔥",
    "～",
    "！",
    "。",
    "，",
    "？",
    "Ｈｅｌｌｏ",
    "ｎｂａ",
    "\u200b",
]


def posts_table(name: str = "posts", schema: str | None = None) -> Table:
    return Table(
        name,
        MetaData(),
        Column("id", BigId, primary_key=True, autoincrement=False),
        Column("title", String(200), nullable=True),
        Column("content", Text, nullable=True),
        Column("post_time", DateTime, nullable=False),
        Index(f"ix_{name}_post_time", "post_time"),
        schema=schema,
        mysql_charset="utf8mb4",
    )


def generate_posts(n: int, seed: int = 7, start: datetime = DEMO_YEAR_START, days: int = 365) -> Iterator[dict]:
    """`n` posts with ids 1..n and times spread over `days` days from `start` (in id order).

    Some titles and contents are NULL or empty, some texts carry emoji, full-width letters and
    zero-width spaces, as real posts do.
    """
    rng = random.Random(seed)
    step = timedelta(days=days) / max(n, 1)
    for i in range(1, n + 1):
        roll = rng.random()
        title: str | None = rng.choice(_TOPICS)[:12]
        content: str | None = "".join(rng.choice(_FILLERS) + rng.choice(_TOPICS) for _ in range(rng.randint(1, 4)))
        if roll < 0.02:
            title, content = None, None
        elif roll < 0.04:
            title, content = "", ""
        elif roll < 0.10:
            title = None
        yield {"id": i, "title": title, "content": content, "post_time": start + step * (i - 1)}


def seed_posts(engine: Engine, table: Table, n: int, seed: int = 7, batch: int = 5_000, **kwargs: object) -> int:
    """(Re)create `table` and fill it with `n` generated posts."""
    table.drop(engine, checkfirst=True)
    table.create(engine)
    rows: list[dict] = []
    with engine.begin() as conn:
        for row in generate_posts(n, seed, **kwargs):  # type: ignore[arg-type]
            rows.append(row)
            if len(rows) == batch:
                conn.execute(insert(table), rows)
                rows = []
        if rows:
            conn.execute(insert(table), rows)
    return n
