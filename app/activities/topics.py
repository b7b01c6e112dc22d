"""The skills a class teaches: the default list every province starts from, and a province's own."""
import sqlalchemy as sa

from app.activities.models import Topic
from app.extensions import db

# (code, name in Vietnamese, name in English). The classes-and-shifts migration carries a frozen copy.
DEFAULT_TOPICS = [
    ("bdhvs_basics", "Bình dân học vụ số: kỹ năng số cơ bản", "Digital literacy for all: basic digital skills"),
    ("smartphone", "Sử dụng điện thoại thông minh", "Using a smartphone"),
    ("vneid", "Cài đặt và sử dụng VNeID", "Installing and using VNeID"),
    ("public_services", "Dịch vụ công trực tuyến", "Online public services"),
    ("cashless", "Thanh toán không dùng tiền mặt", "Cashless payments"),
    ("online_safety", "An toàn trên không gian mạng", "Staying safe online"),
    ("ecommerce", "Bán hàng và mua sắm trực tuyến", "Selling and shopping online"),
    ("digital_health", "Sổ sức khỏe điện tử và khám bệnh trực tuyến", "Electronic health book and telehealth"),
    ("information", "Tìm kiếm và đánh giá thông tin trên mạng", "Finding and judging information online"),
]


def topics_for(province_id: int | None) -> list[Topic]:
    """The active topics a province's classes choose from: the default list, then its own."""
    query = (sa.select(Topic).where(Topic.active, sa.or_(Topic.province_id.is_(None), Topic.province_id == province_id))
             .order_by(Topic.province_id.is_not(None), Topic.position, Topic.id))
    return list(db.session.scalars(query))


def insert_default_topics(connection) -> int:
    """Insert the default topics a database lacks (by code); returns how many were added."""
    topics = sa.table("topics", sa.column("province_id"), sa.column("code"), sa.column("name"),
                      sa.column("name_en"), sa.column("position"), sa.column("active"))
    have = set(connection.execute(sa.select(topics.c.code).where(topics.c.province_id.is_(None))).scalars())
    rows = [{"province_id": None, "code": code, "name": vi, "name_en": en, "position": (i + 1) * 10, "active": True}
            for i, (code, vi, en) in enumerate(DEFAULT_TOPICS) if code not in have]
    if rows:
        connection.execute(topics.insert(), rows)
    return len(rows)


def add_topic(province_id: int, name: str, name_en: str = "", user=None) -> Topic:
    """A province's own topic, after the default list; its code is made from the name (stable after)."""
    import re

    from app.audit.models import record
    from app.text import fold
    base = re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_")[:28] or "topic"
    taken = set(db.session.scalars(sa.select(Topic.code).where(Topic.province_id == province_id)))
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}_{n}"
    last = db.session.scalar(sa.select(sa.func.max(Topic.position)).where(
        sa.or_(Topic.province_id.is_(None), Topic.province_id == province_id))) or 0
    topic = Topic(province_id=province_id, code=code, name=name, name_en=name_en or "", position=last + 10)
    db.session.add(topic)
    db.session.flush()
    record("create", "topic", topic.id, province_id, after={"code": code, "name": name}, user=user)
    return topic


def set_topic_active(topic: Topic, active: bool, user=None) -> None:
    """Take a province's own topic off the class form (classes that chose it keep it), or back."""
    from app.audit.models import record
    record("update", "topic", topic.id, topic.province_id, before={"active": topic.active}, after={"active": active},
           user=user)
    topic.active = active
    db.session.flush()
